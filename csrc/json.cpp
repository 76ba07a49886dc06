namespace ssr {}
