#include <pybind11/stl.h>

#include "bindings.h"
#include "query.h"

void init_query(py::module_& m) {
  m.attr("TASK_KEYS") = std::vector<std::string>(std::begin(ssr::kTaskKeys), std::end(ssr::kTaskKeys));

  py::class_<ssr::Query>(m, "Query", "A query program: a VSI-Bench task key and its label arguments.")
      .def(py::init([](const std::string& task, std::vector<std::string> args) {
             return ssr::Query{task, std::move(args)};
           }),
           py::arg("task"), py::arg("args"))
      .def_readonly("task", &ssr::Query::task)
      .def_readonly("args", &ssr::Query::args)
      .def("__eq__", [](const ssr::Query& a, const ssr::Query& b) { return a.task == b.task && a.args == b.args; })
      .def("__repr__", [](const ssr::Query& q) { return py::str("Query({!r}, {!r})").format(q.task, q.args); });
}
