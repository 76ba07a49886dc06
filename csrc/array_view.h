// A borrowed, C-contiguous array as the caller holds it: typed data plus the shape it arrived with.
// The core validates shapes itself, so an error can name the field and the shape it actually got.
// The view does not own its data; the caller keeps the buffer alive and unchanged during the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ssr {

template <typename T>
struct ArrayView {
  const T* data = nullptr;
  std::vector<std::int64_t> shape;  // any rank, row-major (C order)
};

// "(480, 640, 3)", the way numpy prints a shape, so messages read naturally from Python.
inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

}  // namespace ssr
