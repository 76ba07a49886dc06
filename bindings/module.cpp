#include <pybind11/pybind11.h>

#include "bindings.h"
#include "errors.h"

namespace {

// Exception types live for the life of the interpreter; pybind11 3 wants them stored GIL-safely.
PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> g_parse_error;

void register_errors(py::module_& m) {
  // SsrError derives from ValueError: bad input is a value problem to every caller.
  static py::exception<ssr::Error> base(m, "SsrError", PyExc_ValueError);
  py::register_exception<ssr::InvalidInput>(m, "InvalidInputError", base.ptr());
  py::register_exception<ssr::QueryError>(m, "QueryError", base.ptr());
  g_parse_error.call_once_and_store_result([&]() -> py::object {
    return py::exception<ssr::ParseError>(m, "ParseError", base.ptr());
  });
  // ParseError carries .line and .column (1-based) besides its message.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ssr::ParseError& e) {
      py::object type = g_parse_error.get_stored();
      py::object instance = type(e.what());
      instance.attr("line") = e.line();
      instance.attr("column") = e.column();
      PyErr_SetObject(type.ptr(), instance.ptr());
    }
  });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "ssr-runtime C++17 core: geometry, camera, scene graph, LocalCogMap, text formats, queries";
  m.attr("__version__") = SSR_VERSION;
  register_errors(m);
  init_geometry(m);
  init_pointcloud(m);
  init_camera(m);
  init_scene_graph(m);
  init_cogmap(m);
  init_query(m);  // before text formats: their signatures use Query
  init_text_format(m);
}
