#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <array>
#include <optional>
#include <filesystem>

#include "bindings.h"
#include "scene_graph.h"

namespace {

using Triple = std::array<double, 3>;
using Release = py::call_guard<py::gil_scoped_release>;

Triple to_triple(const ssr::Vec3& v) { return {v.x, v.y, v.z}; }

void init_detection(py::module_& m) {
  py::class_<ssr::Detection>(m, "Detection",
                             "One observation of an object without an id yet: label, 7-DoF box (world "
                             "frame, metres), confidence in [0, 1], timestamp t (seconds).")
      .def(py::init([](const std::string& label, const ssr::Box3D& box, double confidence, double t) {
             return ssr::Detection{label, box, confidence, t};
           }),
           py::arg("label"), py::arg("box"), py::arg("confidence") = 1.0, py::arg("t") = 0.0)
      .def_readwrite("label", &ssr::Detection::label)
      .def_readwrite("box", &ssr::Detection::box)
      .def_readwrite("confidence", &ssr::Detection::confidence)
      .def_readwrite("t", &ssr::Detection::t, "seconds")
      .def("__repr__", [](const ssr::Detection& d) {
        return py::str("Detection({!r}, {!r}, confidence={}, t={})").format(d.label, d.box, d.confidence, d.t);
      });
}

void init_merge_params(py::module_& m) {
  py::class_<ssr::MergeParams>(
      m, "MergeParams",
      "When a detection (or another object) is the same object: same label and 3D IoU >= min_iou, "
      "or centres closer than max_center_dist (metres) with longest sides within max_size_ratio. "
      "The best match maximises IoU + max(0, 1 - centre distance / max_center_dist).")
      .def(py::init([](double min_iou, double max_center_dist, double max_size_ratio) {
             ssr::MergeParams params{min_iou, max_center_dist, max_size_ratio};
             ssr::validate_merge_params(params);
             return params;
           }),
           py::arg("min_iou") = ssr::MergeParams{}.min_iou,
           py::arg("max_center_dist") = ssr::MergeParams{}.max_center_dist,
           py::arg("max_size_ratio") = ssr::MergeParams{}.max_size_ratio)
      .def_readwrite("min_iou", &ssr::MergeParams::min_iou, "in [0, 1]")
      .def_readwrite("max_center_dist", &ssr::MergeParams::max_center_dist, "metres, >= 0")
      .def_readwrite("max_size_ratio", &ssr::MergeParams::max_size_ratio, ">= 1")
      .def("__repr__", [](const ssr::MergeParams& p) {
        return py::str("MergeParams(min_iou={}, max_center_dist={}, max_size_ratio={})")
            .format(p.min_iou, p.max_center_dist, p.max_size_ratio);
      });
}

void init_composition_report(py::module_& m) {
  py::class_<ssr::CompositionReport>(m, "CompositionReport",
                                     "Result of SceneGraph.compose: composed centres and what disagrees.")
      .def_readonly("root", &ssr::CompositionReport::root)
      .def_property_readonly(
          "positions",
          [](const ssr::CompositionReport& r) {
            std::map<std::string, Triple> out;
            for (const auto& [id, p] : r.positions) out[id] = to_triple(p);
            return out;
          },
          "dict id -> composed centre (x, y, z), metres, for every object reached from the root")
      .def_readonly("unreached", &ssr::CompositionReport::unreached,
                    "ids the triplets do not connect to the root, graph order")
      .def_readonly("inconsistent", &ssr::CompositionReport::inconsistent,
                    "ids whose composed centre is more than the tolerance from their box centre, or "
                    "that two paths place more than the tolerance apart; graph order")
      .def_readonly("max_residual", &ssr::CompositionReport::max_residual,
                    "largest |composed - box centre| over reached objects, metres")
      .def("__repr__", [](const ssr::CompositionReport& r) {
        return py::str("CompositionReport(root={!r}, reached={}, unreached={}, inconsistent={}, max_residual={:.4g})")
            .format(r.root, r.positions.size(), r.unreached.size(), r.inconsistent.size(), r.max_residual);
      });
}

}  // namespace

void init_scene_graph(py::module_& m) {
  init_detection(m);
  init_merge_params(m);
  init_composition_report(m);

  py::class_<ssr::Object>(m, "Object", "An object of the scene graph: id `label#n`, 7-DoF box, "
                                        "confidence, first/last seen time (s), observation count.")
      .def(py::init([](const std::string& label, const ssr::Box3D& box, const std::string& id,
                       double confidence, double first_seen, std::optional<double> last_seen,
                       int observations) {
             return ssr::Object{id, label, box, confidence, first_seen, last_seen.value_or(first_seen),
                                observations};
           }),
           py::arg("label"), py::arg("box"), py::arg("id") = "", py::arg("confidence") = 1.0,
           py::arg("first_seen") = 0.0, py::arg("last_seen") = py::none(), py::arg("observations") = 1)
      .def_readonly("id", &ssr::Object::id)
      .def_readonly("label", &ssr::Object::label)
      .def_readonly("box", &ssr::Object::box)
      .def_readonly("confidence", &ssr::Object::confidence)
      .def_readonly("first_seen", &ssr::Object::first_seen)
      .def_readonly("last_seen", &ssr::Object::last_seen)
      .def_readonly("observations", &ssr::Object::observations)
      .def("__eq__", [](const ssr::Object& a, const ssr::Object& b) { return a == b; },
           "Every field equal, exactly.")
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
      .def_property_readonly("offset", [](const ssr::Triplet& t) { return to_triple(t.offset); })
      .def("__eq__", [](const ssr::Triplet& a, const ssr::Triplet& b) { return a == b; })
      .def("__repr__", [](const ssr::Triplet& t) {
        return py::str("Triplet({!r}, {!r}, {!r}, ({:.2f}, {:.2f}, {:.2f}))")
            .format(t.subject, t.predicate, t.object, t.offset.x, t.offset.y, t.offset.z);
      });

  py::class_<ssr::SceneGraph>(m, "SceneGraph",
                              "Objects with 7-DoF boxes and a chain of local triplets. Not thread-safe: "
                              "its heavier methods release the GIL, so share one graph between threads "
                              "only under a lock.")
      .def(py::init<>())
      .def("add_object", &ssr::SceneGraph::add_object, py::arg("object"),
           "Add an object; an empty id gets the next free label#n. Returns the id.")
      .def("has_object", &ssr::SceneGraph::has_object, py::arg("id"))
      .def("object", &ssr::SceneGraph::object, py::arg("id"), py::return_value_policy::copy,
           "The object with this id (QueryError if absent).")
      // Copies, not references into the graph: a later remove_object must not leave dangling objects.
      .def_property_readonly(
          "objects", [](const ssr::SceneGraph& g) { return g.objects(); }, "All objects (copies).")
      .def("objects_with_label",
           [](const ssr::SceneGraph& g, const std::string& label) {
             std::vector<ssr::Object> out;
             for (const ssr::Object* o : g.objects_with_label(label)) out.push_back(*o);
             return out;
           },
           py::arg("label"))
      .def("remove_object", &ssr::SceneGraph::remove_object, py::arg("id"))
      .def("add_triplet", &ssr::SceneGraph::add_triplet, py::arg("triplet"))
      .def_property_readonly(
          "triplets", [](const ssr::SceneGraph& g) { return g.triplets(); }, "All triplets (copies).")
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
      .def("merge", &ssr::SceneGraph::merge, py::arg("detection"), py::arg("params") = ssr::MergeParams{},
           "Merge one Detection: update the best-matching object of its label (confidence-weighted "
           "centre/size/yaw, yaw modulo 180 degrees; time span widened; observations + 1; confidence = "
           "max) or add a new label#n. Returns the object's id.")
      .def("merge_all", &ssr::SceneGraph::merge_all, py::arg("detections"),
           py::arg("params") = ssr::MergeParams{}, Release(),
           "Merge the detections of one frame/window: each updates a distinct object (greedy by best "
           "score), the rest become new objects. Returns one id per detection, in order.")
      .def("dedupe", &ssr::SceneGraph::dedupe, py::arg("params") = ssr::MergeParams{}, Release(),
           "Merge same-label objects that match each other, keeping the older id and re-pointing its "
           "triplets. Returns the removed ids.")
      .def("extend_chain", &ssr::SceneGraph::extend_chain, Release(),
           "Attach every object no triplet mentions, in first_seen order, to the closest object "
           "already in the chain (derived predicate, offset = centre difference). Returns the new "
           "triplets.")
      .def("attach", &ssr::SceneGraph::attach, py::arg("ids"), py::arg("anchors"), Release(),
           "One window's chain step: attach `ids` (first_seen order) to the closest of `anchors` and of "
           "the ids attached before them; with no candidate an object starts a new piece (no triplet). "
           "Returns the new triplets.")
      .def("rebuild_chain", &ssr::SceneGraph::rebuild_chain, Release(),
           "Drop all triplets and generate the chain afresh. Returns the triplets.")
      .def("compose", &ssr::SceneGraph::compose, py::arg("root"), py::arg("tolerance") = 0.05, Release(),
           "Walk the triplets from `root` (placed at its box centre) and report composed centres, "
           "unreached and inconsistent objects (tolerance in metres).")
      .def("to_json", &ssr::SceneGraph::to_json, Release(),
           "The graph as a JSON document (format 'ssr-scene-graph', version 1); doubles exact.")
      .def_static("from_json", &ssr::SceneGraph::from_json, py::arg("text"), Release(),
                  "Read a graph from JSON text. ParseError (with .line, .column) for malformed JSON; "
                  "InvalidInputError naming the field for a wrong format, a newer version, or a "
                  "missing/mistyped/invalid field.")
      .def(
          "save", [](const ssr::SceneGraph& g, const std::filesystem::path& path) { g.save(path.string()); },
          py::arg("path"), Release(),
          "Write to `path` (str or os.PathLike) atomically: temp file in the same folder, fsync, "
          "rename. On failure the previous file is untouched and InvalidInputError is raised.")
      .def_static(
          "load", [](const std::filesystem::path& path) { return ssr::SceneGraph::load(path.string()); },
          py::arg("path"), Release(), "Read a graph saved by save(); errors as from_json.")
      .def("__eq__", [](const ssr::SceneGraph& a, const ssr::SceneGraph& b) { return a == b; },
           "Same objects, triplets, room polygon and id counters, exactly and in the same order.")
      .def("__len__", [](const ssr::SceneGraph& g) { return g.objects().size(); });

  m.attr("PREDICATES") = py::tuple(py::cast(std::vector<std::string>(std::begin(ssr::kPredicates),
                                                                      std::end(ssr::kPredicates))));
  m.def("derive_predicate", &ssr::derive_predicate, py::arg("subject"), py::arg("object"),
        "Predicate of box `subject` relative to box `object`, the first rule that holds (metres): on / "
        "under: footprints overlap and the touching faces are within 0.05; above / below: footprints "
        "overlap with a vertical gap over 0.05; next_to: closest points within 0.5; near: within 1.5; "
        "far_from otherwise.");
}
