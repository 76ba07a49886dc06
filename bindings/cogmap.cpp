#include <pybind11/stl.h>

#include <array>
#include <optional>

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
      .def_readonly("cells", &ssr::CogMap::cells)
      .def("grid", &ssr::cogmap_grid,
           "10×10 nested lists: grid[i][j] = ids in cell (i, j), i along +x, j along +y.")
      .def("render", &ssr::render_cogmap,
           "Bird's-eye text view, +y at the top: one line per row j = 9..0, cells i = 0..9 left to "
           "right, ids joined by ',' ('.' when empty).");

  py::class_<ssr::LocalizationError>(m, "LocalizationError",
                                     "How far a predicted CogMap puts objects from the true one.")
      .def_readonly("mean_cells", &ssr::LocalizationError::mean_cells,
                    "mean Euclidean distance in cells over ids in both maps; nan when there are none")
      .def_readonly("matched", &ssr::LocalizationError::matched, "number of ids in both maps")
      .def_readonly("missing", &ssr::LocalizationError::missing, "true ids absent from the prediction")
      .def_readonly("extra", &ssr::LocalizationError::extra, "predicted ids absent from the truth")
      .def("__repr__", [](const ssr::LocalizationError& e) {
        return py::str("LocalizationError(mean_cells={:.3f}, matched={}, missing={}, extra={})")
            .format(e.mean_cells, e.matched, e.missing, e.extra);
      });

  m.def("build_cogmap", &ssr::build_cogmap, py::arg("graph"), py::arg("anchor"), py::arg("res") = 0.5,
        "LocalCogMap centred on object `anchor` (its box centre) with cell size `res` metres: every "
        "other object whose centre falls on the 10×10 grid, i = floor((x - cx) / res) + 5 (j likewise).");
  m.def(
      "build_cogmap_at",
      [](const ssr::SceneGraph& g, const std::string& anchor, const std::array<double, 2>& at, double res) {
        return ssr::build_cogmap_at(g, anchor, {at[0], at[1]}, res);
      },
      py::arg("graph"), py::arg("anchor"), py::arg("at"), py::arg("res") = 0.5,
      "CogMap for anchor 'camera' or 'room' centred at `at` = (x, y) world metres, cell size `res`.");
  m.def("build_global_cogmap", &ssr::build_global_cogmap, py::arg("graph"), py::arg("size") = ssr::kCogMapSize,
        "One map over the whole room (anchor 'room'): centred on the bounding box of the room polygon "
        "(else of the object footprints), res = its larger side / size rounded up to whole cm, so the "
        "room spans `size` (1..10) cells.");
  m.def("localization_error", &ssr::localization_error, py::arg("predicted"), py::arg("truth"),
        "Compare two CogMaps with the same anchor and res: mean cell distance over shared ids, and "
        "the ids missing from / extra in the prediction.");
}
