#include "bindings.h"

void init_text_format(py::module_& m) { (void)m; }
