// numpy <-> core array plumbing for the binding layer: dtype-checked, copy-free views in, and
// vectors handed to numpy without a copy out.
#pragma once

#include <pybind11/numpy.h>

#include <string>
#include <utility>
#include <vector>

#include "array_view.h"
#include "bindings.h"
#include "errors.h"

// pybind11 keeps its types at hidden visibility; helpers that hold them must match (-Wattributes).
#if defined(__GNUC__) || defined(__clang__)
#define SSR_BINDINGS_HIDDEN __attribute__((visibility("hidden")))
#else
#define SSR_BINDINGS_HIDDEN
#endif

namespace ssr_bindings SSR_BINDINGS_HIDDEN {

// A C-contiguous array of T together with the core's view of it; `owner` keeps the buffer alive
// (and is the caller's own array whenever that was already C-contiguous: no copy then).
template <typename T>
struct Borrowed {
  py::array_t<T, py::array::c_style> owner;
  ssr::ArrayView<T> view;
};

inline std::vector<std::int64_t> shape_of(const py::array& a) {
  return std::vector<std::int64_t>(a.shape(), a.shape() + a.ndim());
}

// "float64 array of shape (3, 4)", for messages about what the caller passed.
inline std::string describe(const py::array& a) {
  return py::str(a.dtype()).cast<std::string>() + " array of shape " +
         ssr::shape_string(shape_of(a));
}

// Any array-like as a numpy array (no copy for an ndarray), or InvalidInput(field): arguments are
// taken as objects so that None or a ragged list is reported against its field, not as a bare
// TypeError about the signature.
inline py::array as_array(const py::handle& obj, const std::string& field) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  py::array converted = py::array::ensure(obj);
  if (!converted) {
    std::string type_name = py::str(py::type::of(obj).attr("__name__"));
    throw ssr::InvalidInput(field, "expected a numpy array, got " + type_name);
  }
  return converted;
}

template <typename T>
bool has_dtype(const py::array& a) {
  return a.dtype().equal(py::dtype::of<T>());
}

template <typename T>
Borrowed<T> borrow_contiguous(const py::array& a) {
  auto owner = py::array_t<T, py::array::c_style>::ensure(a);
  return {owner, ssr::ArrayView<T>{owner.data(), shape_of(owner)}};
}

// The array as T, or InvalidInput(field) naming the dtype and shape it has. Never converts: a
// wrong dtype is a caller bug (float64 depth, int rgb), not something to round silently.
template <typename T>
Borrowed<T> borrow_exact(const py::handle& obj, const std::string& field,
                         const std::string& expected) {
  py::array a = as_array(obj, field);
  if (!has_dtype<T>(a)) {
    throw ssr::InvalidInput(field, "expected " + expected + ", got " + describe(a));
  }
  return borrow_contiguous<T>(a);
}

// A small real-valued matrix (K, T_wc) as float64: integer and float32 entries are widened
// exactly; bool, complex, object and string arrays are refused.
inline Borrowed<double> borrow_real_matrix(const py::handle& obj, const std::string& field) {
  py::array a = as_array(obj, field);
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw ssr::InvalidInput(field, "expected a real float64 matrix, got " + describe(a));
  }
  auto owner = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  return {owner, ssr::ArrayView<double>{owner.data(), shape_of(owner)}};
}

// Hands a vector to numpy without copying: the array owns the vector through a capsule.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& values, const std::vector<py::ssize_t>& shape) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule release(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owned->data(), release);
}

}  // namespace ssr_bindings
