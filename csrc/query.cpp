#include "query.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "errors.h"

namespace ssr {

namespace {

constexpr double kDegPerRad = 180.0 / kPi;
// Centres closer than this in the top-down plane give no direction between them.
constexpr double kMinPlanarSeparationM = 1e-9;

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

// A label argument and the name of the parameter it came in, for error messages.
struct LabelArg {
  const std::string& label;
  std::string field;
};

bool is_label(const std::string& s) {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Every argument must be a label, and no two may repeat: a repeated referent makes the question
// trivial (distance 0) or leaves no direction.
void check_labels(const std::vector<LabelArg>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (!is_label(args[i].label)) {
      throw InvalidInput(args[i].field,
                         "'" + args[i].label + "' is not a category label ([a-z][a-z0-9_]*)");
    }
    for (size_t j = 0; j < i; ++j) {
      if (args[j].label == args[i].label) {
        throw InvalidInput(args[i].field, "'" + args[i].label + "' repeats " + args[j].field);
      }
    }
  }
}

std::vector<std::string> ids_of(const std::vector<const Object*>& objects) {
  std::vector<std::string> ids;
  for (const Object* o : objects) ids.push_back(o->id);
  return ids;
}

const Object& unique_object(const SceneGraph& graph, const std::string& label) {
  auto found = graph.objects_with_label(label);
  if (found.size() != 1) {
    std::string listing = found.empty() ? "" : " (" + join(ids_of(found), ", ") + ")";
    throw QueryError("label '" + label + "' must name exactly one object, found " +
                     std::to_string(found.size()) + listing);
  }
  return *found.front();
}

std::vector<const Object*> present_objects(const SceneGraph& graph, const std::string& label) {
  auto found = graph.objects_with_label(label);
  if (found.empty()) throw QueryError("label '" + label + "' has no object in the scene, found 0");
  return found;
}

Vec2 planar_direction(const Object& from, const Object& to) {
  Vec2 d{to.box.center.x - from.box.center.x, to.box.center.y - from.box.center.y};
  if (std::hypot(d.x, d.y) < kMinPlanarSeparationM) {
    throw QueryError("'" + from.id + "' and '" + to.id +
                     "' share a centre in the top-down plane, so there is no direction between them");
  }
  return d;
}

// Angle that turns direction `from` onto direction `to`, degrees in (-180, 180], + = counter-clockwise.
double signed_angle_deg(Vec2 from, Vec2 to) {
  return wrap_angle(std::atan2(cross(from, to), dot(from, to))) * kDegPerRad;
}

bool near_deg(double angle_deg, double boundary_deg) {
  return std::abs(angle_deg - boundary_deg) <= kAngleTieDeg;
}

std::string classify_direction(double angle_deg, DirectionGranularity granularity,
                               const std::string& querying_id) {
  const double magnitude = std::abs(angle_deg);
  const bool ahead_or_behind = near_deg(magnitude, 0) || near_deg(magnitude, 180);
  const std::string side = angle_deg > 0 ? "left" : "right";
  auto ambiguous = [&]() {
    return QueryError("'" + querying_id + "' lies at " + describe_number(angle_deg) +
                      " degrees from the facing direction, on a boundary between the answers");
  };
  switch (granularity) {
    case DirectionGranularity::kEasy:
      if (ahead_or_behind) throw ambiguous();
      return side;
    case DirectionGranularity::kMedium:
      if (magnitude >= kDirectionBackMinDeg) return "back";
      if (ahead_or_behind) throw ambiguous();
      return side;
    case DirectionGranularity::kHard:
      if (ahead_or_behind || near_deg(magnitude, 90)) throw ambiguous();
      return (magnitude < 90 ? "front-" : "back-") + side;
  }
  throw InvalidInput("granularity", "unknown granularity");
}

std::string classify_turn(double angle_deg) {
  const double magnitude = std::abs(angle_deg);
  if (magnitude < kRouteForwardMaxDeg) return "Go Forward";
  if (magnitude >= kRouteBackMinDeg) return "Turn Back";
  return angle_deg > 0 ? "Turn Left" : "Turn Right";
}

struct DistancePair {
  const Object& a;
  const Object& b;
  double distance_m;
};

DistancePair distance_pair(const SceneGraph& graph, const std::string& a, const std::string& b) {
  check_labels({{a, "a"}, {b, "b"}});
  const Object& object_a = unique_object(graph, a);
  const Object& object_b = unique_object(graph, b);
  return {object_a, object_b, box_distance(object_a.box, object_b.box)};
}

const Object& sized_object(const SceneGraph& graph, const std::string& label) {
  check_labels({{label, "label"}});
  return unique_object(graph, label);
}

// Each label's earliest instance, ordered by first_seen.
std::vector<const Object*> first_appearances(const SceneGraph& graph,
                                             const std::vector<std::string>& labels) {
  if (labels.size() < 2) {
    throw InvalidInput("labels", "need at least 2 labels to order, got " + std::to_string(labels.size()));
  }
  std::vector<LabelArg> args;
  for (size_t i = 0; i < labels.size(); ++i) args.push_back({labels[i], "labels[" + std::to_string(i) + "]"});
  check_labels(args);
  std::vector<const Object*> firsts;
  for (const std::string& label : labels) {
    auto instances = present_objects(graph, label);
    firsts.push_back(*std::min_element(instances.begin(), instances.end(),
                                       [](const Object* x, const Object* y) {
                                         return x->first_seen < y->first_seen;
                                       }));
  }
  std::stable_sort(firsts.begin(), firsts.end(),
                   [](const Object* x, const Object* y) { return x->first_seen < y->first_seen; });
  for (size_t i = 1; i < firsts.size(); ++i) {
    if (firsts[i]->first_seen - firsts[i - 1]->first_seen <= kTimeTieS) {
      throw QueryError("labels '" + firsts[i - 1]->label + "' and '" + firsts[i]->label +
                       "' first appear at the same time (" + describe_number(firsts[i]->first_seen) +
                       " s), so their order is ambiguous");
    }
  }
  return firsts;
}

QueryResult number_result(double value, const std::string& unit) {
  QueryResult result;
  result.is_number = true;
  result.value = value;
  result.unit = unit;
  return result;
}

QueryResult choice_result(const std::string& choice) {
  QueryResult result;
  result.value = std::numeric_limits<double>::quiet_NaN();
  result.choice = choice;
  return result;
}

using Args = std::vector<std::string>;

QueryResult run_counting(const SceneGraph& graph, const Args& args) {
  QueryResult result = number_result(object_count(graph, args[0]), "");
  result.evidence = ids_of(graph.objects_with_label(args[0]));
  return result;
}

QueryResult run_abs_distance(const SceneGraph& graph, const Args& args) {
  DistancePair pair = distance_pair(graph, args[0], args[1]);
  QueryResult result = number_result(pair.distance_m, "m");
  result.evidence = {pair.a.id, pair.b.id};
  result.detail = {pair.distance_m};
  return result;
}

QueryResult run_size(const SceneGraph& graph, const Args& args) {
  const Object& object = sized_object(graph, args[0]);
  QueryResult result = number_result(longest_side(object.box) * 100, "cm");
  result.evidence = {object.id};
  result.detail = {object.box.size.x * 100, object.box.size.y * 100, object.box.size.z * 100};
  return result;
}

QueryResult run_room_size(const SceneGraph& graph, const Args&) {
  return number_result(room_size(graph), "m2");
}

QueryResult run_rel_distance(const SceneGraph& graph, const Args& args) {
  RelDistanceAnswer answer = rel_distance(graph, args[0], Args(args.begin() + 1, args.end()));
  QueryResult result = choice_result(answer.closest);
  result.evidence = {answer.target_id};
  result.evidence.insert(result.evidence.end(), answer.nearest_ids.begin(), answer.nearest_ids.end());
  result.detail = answer.distances_m;
  return result;
}

QueryResult run_direction(const SceneGraph& graph, const Args& args, DirectionGranularity granularity) {
  DirectionAnswer answer = rel_direction(graph, args[0], args[1], args[2], granularity);
  QueryResult result = choice_result(answer.answer);
  result.evidence = answer.ids;
  result.detail = {answer.angle_deg};
  return result;
}

QueryResult run_direction_easy(const SceneGraph& graph, const Args& args) {
  return run_direction(graph, args, DirectionGranularity::kEasy);
}
QueryResult run_direction_medium(const SceneGraph& graph, const Args& args) {
  return run_direction(graph, args, DirectionGranularity::kMedium);
}
QueryResult run_direction_hard(const SceneGraph& graph, const Args& args) {
  return run_direction(graph, args, DirectionGranularity::kHard);
}

QueryResult run_route(const SceneGraph& graph, const Args& args) {
  RouteAnswer answer = route_plan(graph, args[0], args[1], Args(args.begin() + 2, args.end()));
  QueryResult result = choice_result(join(answer.turns, ", "));
  result.evidence = answer.ids;
  result.detail = answer.angles_deg;
  return result;
}

QueryResult run_appearance(const SceneGraph& graph, const Args& args) {
  std::vector<const Object*> firsts = first_appearances(graph, args);
  std::vector<std::string> order;
  for (const Object* o : firsts) order.push_back(o->label);
  QueryResult result = choice_result(join(order, ", "));
  result.evidence = ids_of(firsts);
  for (const Object* o : firsts) result.detail.push_back(o->first_seen);
  return result;
}

struct TaskSpec {
  const char* key;
  int min_args;
  int max_args;
  const char* arg_names;
  QueryResult (*run)(const SceneGraph&, const Args&);
};

const TaskSpec kTaskSpecs[] = {
    {"object_counting", 1, 1, "label", run_counting},
    {"object_abs_distance", 2, 2, "a b", run_abs_distance},
    {"object_size_estimation", 1, 1, "label", run_size},
    {"room_size_estimation", 0, 0, "no labels", run_room_size},
    {"object_rel_distance", 3, 5, "target, then 2..4 candidates", run_rel_distance},
    {"object_rel_direction_easy", 3, 3, "positioning orienting querying", run_direction_easy},
    {"object_rel_direction_medium", 3, 3, "positioning orienting querying", run_direction_medium},
    {"object_rel_direction_hard", 3, 3, "positioning orienting querying", run_direction_hard},
    {"route_planning", 3, 7, "start, facing, then 1..5 waypoints", run_route},
    {"obj_appearance_order", 2, 4, "2..4 labels", run_appearance},
};

const TaskSpec& find_task(const std::string& task) {
  for (const TaskSpec& spec : kTaskSpecs) {
    if (task == spec.key) return spec;
  }
  std::vector<std::string> keys(std::begin(kTaskKeys), std::end(kTaskKeys));
  throw InvalidInput("query.task", "unknown task '" + task + "'; expected one of " + join(keys, ", "));
}

void check_arg_count(const TaskSpec& spec, size_t count) {
  const int n = static_cast<int>(count);
  if (n >= spec.min_args && n <= spec.max_args) return;
  std::string expected = spec.min_args == spec.max_args
                             ? std::to_string(spec.min_args)
                             : std::to_string(spec.min_args) + ".." + std::to_string(spec.max_args);
  throw InvalidInput("query.args", std::string(spec.key) + " takes " + expected + " label(s) (" +
                                       spec.arg_names + "), got " + std::to_string(count));
}

}  // namespace

QueryArity query_arity(std::string_view task) {
  const TaskSpec& spec = find_task(std::string(task));
  return {spec.min_args, spec.max_args};
}

DirectionGranularity parse_direction_granularity(const std::string& name) {
  if (name == "easy") return DirectionGranularity::kEasy;
  if (name == "medium") return DirectionGranularity::kMedium;
  if (name == "hard") return DirectionGranularity::kHard;
  throw InvalidInput("granularity", "'" + name + "' is not one of easy, medium, hard");
}

int object_count(const SceneGraph& graph, const std::string& label) {
  check_labels({{label, "label"}});
  return static_cast<int>(graph.objects_with_label(label).size());
}

double abs_distance(const SceneGraph& graph, const std::string& a, const std::string& b) {
  return distance_pair(graph, a, b).distance_m;
}

double object_size(const SceneGraph& graph, const std::string& label) {
  return longest_side(sized_object(graph, label).box) * 100;
}

double room_size(const SceneGraph& graph) {
  const std::vector<Vec2>& polygon = graph.room_polygon;
  if (polygon.size() < 3) {
    throw QueryError("room_polygon has " + std::to_string(polygon.size()) +
                     " vertices; room size needs the floor outline (at least 3)");
  }
  for (const Vec2& p : polygon) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      throw InvalidInput("room_polygon", "vertices must be finite");
    }
  }
  const double area = polygon_area(polygon);
  if (area <= 0) throw QueryError("room_polygon encloses no area");
  return area;
}

RelDistanceAnswer rel_distance(const SceneGraph& graph, const std::string& target,
                               const std::vector<std::string>& candidates) {
  if (candidates.size() < 2) {
    throw InvalidInput("candidates", "need at least 2 candidate labels, got " +
                                         std::to_string(candidates.size()));
  }
  std::vector<LabelArg> args{{target, "target"}};
  for (size_t i = 0; i < candidates.size(); ++i) {
    args.push_back({candidates[i], "candidates[" + std::to_string(i) + "]"});
  }
  check_labels(args);
  const Object& anchor = unique_object(graph, target);
  RelDistanceAnswer answer;
  answer.target_id = anchor.id;
  for (const std::string& label : candidates) {
    const Object* nearest = nullptr;
    double best = std::numeric_limits<double>::infinity();
    for (const Object* o : present_objects(graph, label)) {
      const double d = box_distance(anchor.box, o->box);
      if (d < best) {
        best = d;
        nearest = o;
      }
    }
    answer.nearest_ids.push_back(nearest->id);
    answer.distances_m.push_back(best);
  }
  const auto& d = answer.distances_m;
  const size_t winner = std::min_element(d.begin(), d.end()) - d.begin();
  for (size_t i = 0; i < d.size(); ++i) {
    if (i != winner && d[i] - d[winner] <= kDistanceTieM) {
      throw QueryError("candidates '" + candidates[winner] + "' and '" + candidates[i] +
                       "' are equally close to '" + anchor.id + "' (" + describe_number(d[i]) + " m)");
    }
  }
  answer.closest = candidates[winner];
  return answer;
}

DirectionAnswer rel_direction(const SceneGraph& graph, const std::string& positioning,
                              const std::string& orienting, const std::string& querying,
                              DirectionGranularity granularity) {
  check_labels({{positioning, "positioning"}, {orienting, "orienting"}, {querying, "querying"}});
  const Object& stand = unique_object(graph, positioning);
  const Object& face = unique_object(graph, orienting);
  const Object& query = unique_object(graph, querying);
  DirectionAnswer answer;
  answer.angle_deg = signed_angle_deg(planar_direction(stand, face), planar_direction(stand, query));
  answer.answer = classify_direction(answer.angle_deg, granularity, query.id);
  answer.ids = {stand.id, face.id, query.id};
  return answer;
}

RouteAnswer route_plan(const SceneGraph& graph, const std::string& start, const std::string& facing,
                       const std::vector<std::string>& waypoints) {
  if (waypoints.empty()) throw InvalidInput("waypoints", "need at least 1 waypoint");
  // The facing object only sets the first heading; it may also be a waypoint (walk straight to it).
  check_labels({{start, "start"}, {facing, "facing"}});
  std::vector<LabelArg> path{{start, "start"}};
  for (size_t i = 0; i < waypoints.size(); ++i) {
    path.push_back({waypoints[i], "waypoints[" + std::to_string(i) + "]"});
  }
  check_labels(path);
  std::vector<const Object*> stops{&unique_object(graph, start)};
  const Object& face = unique_object(graph, facing);
  for (const std::string& label : waypoints) stops.push_back(&unique_object(graph, label));

  RouteAnswer answer;
  Vec2 heading = planar_direction(*stops[0], face);
  for (size_t i = 0; i + 1 < stops.size(); ++i) {
    const Vec2 leg = planar_direction(*stops[i], *stops[i + 1]);
    const double angle = signed_angle_deg(heading, leg);
    answer.angles_deg.push_back(angle);
    answer.turns.push_back(classify_turn(angle));
    heading = leg;  // arriving at the next stop, one faces along the leg just walked
  }
  answer.ids = {stops[0]->id, face.id};
  for (size_t i = 1; i < stops.size(); ++i) answer.ids.push_back(stops[i]->id);
  return answer;
}

std::vector<std::string> appearance_order(const SceneGraph& graph,
                                          const std::vector<std::string>& labels) {
  std::vector<std::string> order;
  for (const Object* o : first_appearances(graph, labels)) order.push_back(o->label);
  return order;
}

QueryResult run_query(const SceneGraph& graph, const Query& query) {
  const TaskSpec& spec = find_task(query.task);
  check_arg_count(spec, query.args.size());
  QueryResult result = spec.run(graph, query.args);
  result.task = query.task;
  return result;
}

}  // namespace ssr
