// Spatial query engine over a scene graph: VSI-Bench's eight task families (docs/QUERIES.md).
// Questions name categories (labels). Where a task needs one referent, its label must name exactly
// one object, else QueryError names the label and the count. Directions live in the gravity-aligned
// top-down plane (world xy); signed angles are degrees in (-180, 180], positive = counter-clockwise
// seen from above = to the left of the facing direction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scene_graph.h"

namespace ssr {

// VSI-Bench's raw task keys, spelled as in its published tables (docs/QUERIES.md).
inline constexpr const char* kTaskKeys[] = {
    "object_counting",           "object_abs_distance",       "object_size_estimation",
    "room_size_estimation",      "object_rel_distance",       "object_rel_direction_easy",
    "object_rel_direction_medium", "object_rel_direction_hard", "route_planning",
    "obj_appearance_order"};

// A query program: a task key and its label arguments, as in `<q> object_abs_distance bed lamp </q>`.
// How many label arguments a task takes; InvalidInput naming "query.task" for an unknown task.
struct QueryArity {
  int min_args;
  int max_args;
};
QueryArity query_arity(std::string_view task);

struct Query {
  std::string task;
  std::vector<std::string> args;
};

// Relative direction, medium: the querying object is "back" at |angle| >= this (VSI-Bench's 135°).
inline constexpr double kDirectionBackMinDeg = 135.0;
// Route turns: each turn is the nearest of 0°, ±90°, 180°: "Go Forward" below this |angle| ...
inline constexpr double kRouteForwardMaxDeg = 45.0;
// ... "Turn Back" at or above this |angle| (the same 135° as relative direction), else left/right.
inline constexpr double kRouteBackMinDeg = 135.0;
// Angles within this of a decision boundary with no side (0°, ±90°, 180°) have no answer.
inline constexpr double kAngleTieDeg = 1e-9;
// Candidate distances (relative distance) within this are a tie with no answer.
inline constexpr double kDistanceTieM = 1e-9;
// First-seen times (appearance order) within this are a tie with no answer.
inline constexpr double kTimeTieS = 1e-9;

enum class DirectionGranularity { kEasy, kMedium, kHard };

// "easy" / "medium" / "hard"; InvalidInput("granularity") otherwise.
DirectionGranularity parse_direction_granularity(const std::string& name);

struct RelDistanceAnswer {
  std::string closest;                   // candidate label whose nearest instance is closest
  std::string target_id;
  std::vector<std::string> nearest_ids;  // per candidate (argument order): its instance nearest the target
  std::vector<double> distances_m;       // per candidate: closest-point distance of that instance
};

struct DirectionAnswer {
  std::string answer;  // left/right | left/right/back | front-left/front-right/back-left/back-right
  double angle_deg = 0;  // bearing of the querying object from the facing direction, + = left
  std::vector<std::string> ids;  // positioning, orienting, querying
};

struct RouteAnswer {
  std::vector<std::string> turns;  // at the start, then at each waypoint but the last
  std::vector<double> angles_deg;  // signed turn per entry of `turns`, + = left
  std::vector<std::string> ids;    // start, facing, then the waypoints
};

struct QueryResult {
  std::string task;
  bool is_number = false;
  double value = 0;        // the numeric answer; NaN for choice tasks
  std::string unit;        // "", "m", "cm", "m2"
  std::string choice;      // label / direction / comma-joined turns / comma-joined order; "" for numbers
  std::vector<std::string> evidence;  // ids of the objects the answer used
  std::vector<double> detail;         // per task, see docs/QUERIES.md
};

// Number of objects with this label (0 when none).
int object_count(const SceneGraph& graph, const std::string& label);

// Metres between the closest points of the two unique objects (0 when they touch or overlap).
double abs_distance(const SceneGraph& graph, const std::string& a, const std::string& b);

// Longest side (length, width or height) of the unique object, centimetres.
double object_size(const SceneGraph& graph, const std::string& label);

// Floor area of graph.room_polygon, m² (QueryError when it is unknown or degenerate).
double room_size(const SceneGraph& graph);

// Which candidate label is closest to the unique target (>= 2 distinct candidates, each present).
RelDistanceAnswer rel_distance(const SceneGraph& graph, const std::string& target,
                               const std::vector<std::string>& candidates);

// Standing at the positioning object's centre facing the orienting object's centre, where is the
// querying object? All three unique and distinct.
DirectionAnswer rel_direction(const SceneGraph& graph, const std::string& positioning,
                              const std::string& orienting, const std::string& querying,
                              DirectionGranularity granularity);

// Start at `start` facing `facing`, then go forward to each waypoint in turn (>= 1 waypoint).
RouteAnswer route_plan(const SceneGraph& graph, const std::string& start, const std::string& facing,
                       const std::vector<std::string>& waypoints);

// Labels (>= 2, distinct, each present) by the earliest first_seen among their instances.
std::vector<std::string> appearance_order(const SceneGraph& graph,
                                          const std::vector<std::string>& labels);

// Runs a query program; InvalidInput("query.task" / "query.args") when malformed.
QueryResult run_query(const SceneGraph& graph, const Query& query);

}  // namespace ssr
