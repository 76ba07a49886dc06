#include <pybind11/stl.h>

#include "bindings.h"
#include "query.h"

namespace {

void bind_records(py::module_& m) {
  py::class_<ssr::Query>(m, "Query", "A query program: a VSI-Bench task key and its label arguments.")
      .def(py::init([](const std::string& task, std::vector<std::string> args) {
             return ssr::Query{task, std::move(args)};
           }),
           py::arg("task"), py::arg("args"))
      .def_readonly("task", &ssr::Query::task)
      .def_readonly("args", &ssr::Query::args)
      .def("__eq__", [](const ssr::Query& a, const ssr::Query& b) { return a.task == b.task && a.args == b.args; })
      .def("__repr__", [](const ssr::Query& q) { return py::str("Query({!r}, {!r})").format(q.task, q.args); });

  py::class_<ssr::QueryResult>(m, "QueryResult",
                               "Answer of run_query: a number with a unit, or a choice string, with the "
                               "ids of the objects used and per-task detail (docs/QUERIES.md).")
      .def_readonly("task", &ssr::QueryResult::task, "the task key that was run")
      .def_readonly("is_number", &ssr::QueryResult::is_number, "True for the four numeric tasks")
      .def_readonly("value", &ssr::QueryResult::value, "float: the numeric answer in `unit`; NaN for choices")
      .def_readonly("unit", &ssr::QueryResult::unit, "'' (count), 'm', 'cm' or 'm2'")
      .def_readonly("choice", &ssr::QueryResult::choice,
                    "label / direction / ', '-joined turns / ', '-joined labels; '' for numbers")
      .def_readonly("evidence", &ssr::QueryResult::evidence, "list[str]: ids of the objects used")
      .def_readonly("detail", &ssr::QueryResult::detail,
                    "list[float]: distances (m), sides (cm), angles (deg) or times (s), per task")
      .def("__repr__", [](const ssr::QueryResult& r) {
        return r.is_number ? py::str("QueryResult({!r}, {} {!r})").format(r.task, r.value, r.unit)
                           : py::str("QueryResult({!r}, {!r})").format(r.task, r.choice);
      });

  py::class_<ssr::RelDistanceAnswer>(m, "RelDistanceAnswer", "Answer of rel_distance.")
      .def_readonly("closest", &ssr::RelDistanceAnswer::closest, "the candidate label closest to the target")
      .def_readonly("target_id", &ssr::RelDistanceAnswer::target_id)
      .def_readonly("nearest_ids", &ssr::RelDistanceAnswer::nearest_ids,
                    "list[str]: per candidate (argument order), its instance nearest the target")
      .def_readonly("distances_m", &ssr::RelDistanceAnswer::distances_m,
                    "list[float]: per candidate, closest-point distance of that instance, metres");

  py::class_<ssr::DirectionAnswer>(m, "DirectionAnswer", "Answer of rel_direction.")
      .def_readonly("answer", &ssr::DirectionAnswer::answer,
                    "'left'/'right' (easy), also 'back' (medium), 'front-left'/'front-right'/"
                    "'back-left'/'back-right' (hard)")
      .def_readonly("angle_deg", &ssr::DirectionAnswer::angle_deg,
                    "bearing of the querying object from the facing direction, degrees in "
                    "(-180, 180], positive = left (counter-clockwise seen from above)")
      .def_readonly("ids", &ssr::DirectionAnswer::ids, "positioning, orienting, querying object ids");

  py::class_<ssr::RouteAnswer>(m, "RouteAnswer", "Answer of route_plan.")
      .def_readonly("turns", &ssr::RouteAnswer::turns,
                    "list[str]: 'Go Forward'/'Turn Left'/'Turn Right'/'Turn Back' at the start, then "
                    "at each waypoint but the last")
      .def_readonly("angles_deg", &ssr::RouteAnswer::angles_deg,
                    "list[float]: signed turn per entry of turns, degrees, positive = left")
      .def_readonly("ids", &ssr::RouteAnswer::ids, "start, facing, then waypoint object ids");
}

void bind_tasks(py::module_& m) {
  m.def("object_count", &ssr::object_count, py::arg("graph"), py::arg("label"),
        "Number of objects with this label (0 when none).");
  m.def("abs_distance", &ssr::abs_distance, py::arg("graph"), py::arg("a"), py::arg("b"),
        "Metres between the closest points of the unique objects labelled a and b.");
  m.def("object_size", &ssr::object_size, py::arg("graph"), py::arg("label"),
        "Longest side (l, w or h) of the unique object with this label, centimetres.");
  m.def("room_size", &ssr::room_size, py::arg("graph"),
        "Floor area of graph.room_polygon, m² (QueryError when unknown or degenerate).");
  m.def("rel_distance", &ssr::rel_distance, py::arg("graph"), py::arg("target"), py::arg("candidates"),
        "Which candidate label (>= 2) has the instance closest to the unique target (closest points).");
  m.def(
      "rel_direction",
      [](const ssr::SceneGraph& graph, const std::string& positioning, const std::string& orienting,
         const std::string& querying, const std::string& granularity) {
        return ssr::rel_direction(graph, positioning, orienting, querying,
                                  ssr::parse_direction_granularity(granularity));
      },
      py::arg("graph"), py::arg("positioning"), py::arg("orienting"), py::arg("querying"),
      py::arg("granularity"),
      "Standing at the positioning object's centre facing the orienting object's centre, where is the "
      "querying object (top-down plane)? granularity: 'easy', 'medium' or 'hard'.");
  m.def("route_plan", &ssr::route_plan, py::arg("graph"), py::arg("start"), py::arg("facing"),
        py::arg("waypoints"),
        "Turns taken when starting at `start` facing `facing` and walking to each waypoint in turn.");
  m.def("appearance_order", &ssr::appearance_order, py::arg("graph"), py::arg("labels"),
        "Labels (>= 2) sorted by the earliest first_seen among their instances.");
  m.def("run_query", &ssr::run_query, py::arg("graph"), py::arg("query"),
        py::call_guard<py::gil_scoped_release>(),
        "Run a query program (task key + label args) on the graph; returns a QueryResult.");
}

}  // namespace

void init_query(py::module_& m) {
  m.attr("TASK_KEYS") = std::vector<std::string>(std::begin(ssr::kTaskKeys), std::end(ssr::kTaskKeys));
  m.attr("DIRECTION_BACK_MIN_DEG") = ssr::kDirectionBackMinDeg;
  m.attr("ROUTE_FORWARD_MAX_DEG") = ssr::kRouteForwardMaxDeg;
  m.attr("ROUTE_BACK_MIN_DEG") = ssr::kRouteBackMinDeg;
  bind_records(m);
  bind_tasks(m);
}
