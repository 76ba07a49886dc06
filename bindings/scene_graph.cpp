#include <pybind11/stl.h>

#include <array>

#include "bindings.h"
#include "scene_graph.h"

namespace {

using Triple = std::array<double, 3>;

}  // namespace

void init_scene_graph(py::module_& m) {
  py::class_<ssr::Object>(m, "Object", "An object of the scene graph: id `label#n`, 7-DoF box, "
                                        "confidence, first/last seen time (s), observation count.")
      .def(py::init([](const std::string& label, const ssr::Box3D& box, const std::string& id,
                       double confidence, double first_seen, double last_seen, int observations) {
             return ssr::Object{id, label, box, confidence, first_seen, last_seen, observations};
           }),
           py::arg("label"), py::arg("box"), py::arg("id") = "", py::arg("confidence") = 1.0,
           py::arg("first_seen") = 0.0, py::arg("last_seen") = 0.0, py::arg("observations") = 1)
      .def_readonly("id", &ssr::Object::id)
      .def_readonly("label", &ssr::Object::label)
      .def_readonly("box", &ssr::Object::box)
      .def_readonly("confidence", &ssr::Object::confidence)
      .def_readonly("first_seen", &ssr::Object::first_seen)
      .def_readonly("last_seen", &ssr::Object::last_seen)
      .def_readonly("observations", &ssr::Object::observations)
      .def("__repr__", [](const ssr::Object& o) {
        return py::str("Object({!r}, {!r})").format(o.id, o.box);
      });

  py::class_<ssr::Triplet>(m, "Triplet",
                           "`subject predicate object` with offset = subject centre - object "
                           "centre (world-aligned axes, metres).")
      .def(py::init([](const std::string& s, const std::string& p, const std::string& o,
                       const Triple& offset) {
             return ssr::Triplet{s, p, o, {offset[0], offset[1], offset[2]}};
           }),
           py::arg("subject"), py::arg("predicate"), py::arg("object"), py::arg("offset"))
      .def_readonly("subject", &ssr::Triplet::subject)
      .def_readonly("predicate", &ssr::Triplet::predicate)
      .def_readonly("object", &ssr::Triplet::object)
      .def_property_readonly("offset", [](const ssr::Triplet& t) {
        return Triple{t.offset.x, t.offset.y, t.offset.z};
      })
      .def("__repr__", [](const ssr::Triplet& t) {
        return py::str("Triplet({!r}, {!r}, {!r}, ({:.2f}, {:.2f}, {:.2f}))")
            .format(t.subject, t.predicate, t.object, t.offset.x, t.offset.y, t.offset.z);
      });

  py::class_<ssr::SceneGraph>(m, "SceneGraph", "Objects with 7-DoF boxes and a chain of local triplets.")
      .def(py::init<>())
      .def("add_object", &ssr::SceneGraph::add_object, py::arg("object"),
           "Add an object; an empty id gets the next free label#n. Returns the id.")
      .def("has_object", &ssr::SceneGraph::has_object, py::arg("id"))
      .def("object", &ssr::SceneGraph::object, py::arg("id"), py::return_value_policy::copy,
           "The object with this id (QueryError if absent).")
      .def_property_readonly("objects", &ssr::SceneGraph::objects, "All objects (copies).")
      .def("objects_with_label",
           [](const ssr::SceneGraph& g, const std::string& label) {
             std::vector<ssr::Object> out;
             for (const ssr::Object* o : g.objects_with_label(label)) out.push_back(*o);
             return out;
           },
           py::arg("label"))
      .def("remove_object", &ssr::SceneGraph::remove_object, py::arg("id"))
      .def("add_triplet", &ssr::SceneGraph::add_triplet, py::arg("triplet"))
      .def_property_readonly("triplets", &ssr::SceneGraph::triplets, "All triplets (copies).")
      .def_property(
          "room_polygon",
          [](const ssr::SceneGraph& g) {
            std::vector<std::array<double, 2>> out;
            for (auto& p : g.room_polygon) out.push_back({p.x, p.y});
            return out;
          },
          [](ssr::SceneGraph& g, const std::vector<std::array<double, 2>>& pts) {
            g.room_polygon.clear();
            for (auto& p : pts) g.room_polygon.push_back({p[0], p[1]});
          },
          "Floor outline, counter-clockwise (x, y) vertices; empty when unknown.")
      .def("__len__", [](const ssr::SceneGraph& g) { return g.objects().size(); });
}
