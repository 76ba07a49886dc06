#include <pybind11/stl.h>

#include <array>

#include "bindings.h"
#include "cogmap.h"

void init_cogmap(py::module_& m) {
  m.attr("COGMAP_SIZE") = ssr::kCogMapSize;

  py::class_<ssr::CogMapCell>(m, "CogMapCell", "An object's cell in a CogMap: i along +x, j along +y (0..9).")
      .def(py::init([](const std::string& id, int i, int j) { return ssr::CogMapCell{id, i, j}; }),
           py::arg("id"), py::arg("i"), py::arg("j"))
      .def_readonly("id", &ssr::CogMapCell::id)
      .def_readonly("i", &ssr::CogMapCell::i)
      .def_readonly("j", &ssr::CogMapCell::j)
      .def("__eq__", [](const ssr::CogMapCell& a, const ssr::CogMapCell& b) {
        return a.id == b.id && a.i == b.i && a.j == b.j;
      })
      .def("__repr__", [](const ssr::CogMapCell& c) {
        return py::str("CogMapCell({!r}, {}, {})").format(c.id, c.i, c.j);
      });

  py::class_<ssr::CogMap>(m, "CogMap",
                          "10×10 bird's-eye grid, world-aligned, centred on an anchor: an object id, "
                          "or 'camera'/'room' with an explicit centre `at` (x, y).")
      .def(py::init([](const std::string& anchor, double res, std::optional<std::array<double, 2>> at,
                       std::vector<ssr::CogMapCell> cells) {
             ssr::CogMap map{anchor, res, std::nullopt, std::move(cells)};
             if (at) map.at = ssr::Vec2{(*at)[0], (*at)[1]};
             return map;
           }),
           py::arg("anchor"), py::arg("res"), py::arg("at") = py::none(),
           py::arg("cells") = std::vector<ssr::CogMapCell>{})
      .def_readonly("anchor", &ssr::CogMap::anchor)
      .def_readonly("res", &ssr::CogMap::res, "cell size, metres")
      .def_property_readonly("at",
                             [](const ssr::CogMap& c) -> std::optional<std::array<double, 2>> {
                               if (!c.at) return std::nullopt;
                               return std::array<double, 2>{c.at->x, c.at->y};
                             })
      .def_readonly("cells", &ssr::CogMap::cells);
}
