#include "scene_graph.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <deque>
#include <optional>
#include <set>
#include <tuple>

#include "errors.h"
#include "json.h"

namespace ssr {

namespace {

constexpr double kPi = 3.14159265358979323846;

bool is_label(const std::string& s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}

// What one object or detection knows about an object, to be folded into another object.
struct Evidence {
  Box3D box;
  double weight;  // how much the box counts in the average
  double confidence;
  double first_seen, last_seen;
  int observations;
};

Evidence evidence_of(const Detection& d) { return {d.box, d.confidence, d.confidence, d.t, d.t, 1}; }

Evidence evidence_of(const Object& o) {
  return {o.box, o.confidence * o.observations, o.confidence, o.first_seen, o.last_seen, o.observations};
}

void validate_detection(const Detection& d, const std::string& field) {
  if (!is_label(d.label)) throw InvalidInput(field + ".label", "'" + d.label + "' is not a label ([a-z][a-z0-9_]*)");
  validate_box(d.box, field + ".box");
  if (!(d.confidence >= 0 && d.confidence <= 1)) throw InvalidInput(field + ".confidence", "must be in [0, 1]");
  if (!std::isfinite(d.t)) throw InvalidInput(field + ".t", "must be finite");
}

double center_distance(const Box3D& a, const Box3D& b) { return norm(a.center - b.center); }

// Score of a candidate pair (higher is better), or nothing when the pair does not match.
std::optional<double> match_score(const Box3D& a, const Box3D& b, const MergeParams& params) {
  const double iou = box_iou_3d(a, b);
  const double distance = center_distance(a, b);
  const double la = longest_side(a), lb = longest_side(b);
  const bool close_and_alike = distance < params.max_center_dist && std::max(la, lb) <= params.max_size_ratio * std::min(la, lb);
  if (iou < params.min_iou && !close_and_alike) return std::nullopt;
  const double closeness = params.max_center_dist > 0 ? std::max(0.0, 1 - distance / params.max_center_dist) : 0.0;
  return iou + closeness;
}

// Weighted mean of two headings of boxes, which look the same turned by 180 degrees: average the
// doubled angles as unit vectors, then take the representative nearest `a`.
double average_yaw(double a, double wa, double b, double wb) {
  const double x = wa * std::cos(2 * a) + wb * std::cos(2 * b);
  const double y = wa * std::sin(2 * a) + wb * std::sin(2 * b);
  if (std::hypot(x, y) <= 1e-12 * (wa + wb)) return a;  // perpendicular and equally weighted: keep a
  double mean = std::atan2(y, x) / 2;
  if (std::abs(wrap_angle(mean - a)) > kPi / 2) mean += kPi;
  return wrap_angle(mean);
}

Box3D weighted_box(const Box3D& a, double wa, const Box3D& b, double wb) {
  if (!(wa + wb > 0)) wa = wb = 1;  // no confidence on either side: a plain mean
  // a + (b - a) * share rather than (a * wa + b * wb) / total: equal inputs stay exactly equal.
  const double share = wb / (wa + wb);
  Box3D out;
  out.center = a.center + (b.center - a.center) * share;
  out.size = a.size + (b.size - a.size) * share;
  out.yaw = average_yaw(a.yaw, wa, b.yaw, wb);
  return out;
}

int saturating_add(int a, int b) { return a > INT_MAX - b ? INT_MAX : a + b; }

void absorb(Object& object, const Evidence& e) {
  object.box = weighted_box(object.box, object.confidence * object.observations, e.box, e.weight);
  object.confidence = std::max(object.confidence, e.confidence);
  object.first_seen = std::min(object.first_seen, e.first_seen);
  object.last_seen = std::max(object.last_seen, e.last_seen);
  object.observations = saturating_add(object.observations, e.observations);
}

// Order of ids by label, then by n as a number (so chair#2 comes before chair#10).
bool id_less(const std::string& a, const std::string& b) {
  return parse_object_id(a, "id") < parse_object_id(b, "id");
}

bool seen_before(const Object& a, const Object& b) {
  if (a.first_seen != b.first_seen) return a.first_seen < b.first_seen;
  return id_less(a.id, b.id);
}

bool footprints_overlap(const Box3D& a, const Box3D& b) {
  const auto fa = box_footprint(a), fb = box_footprint(b);
  return polygon_area(convex_intersection({fa.begin(), fa.end()}, {fb.begin(), fb.end()})) > 0;
}

}  // namespace

void validate_merge_params(const MergeParams& params) {
  if (!(params.min_iou >= 0 && params.min_iou <= 1)) throw InvalidInput("params.min_iou", "must be in [0, 1]");
  if (!(params.max_center_dist >= 0) || !std::isfinite(params.max_center_dist)) {
    throw InvalidInput("params.max_center_dist", "must be finite and >= 0");
  }
  if (!(params.max_size_ratio >= 1) || !std::isfinite(params.max_size_ratio)) {
    throw InvalidInput("params.max_size_ratio", "must be finite and >= 1");
  }
}

std::string derive_predicate(const Box3D& subject, const Box3D& object) {
  validate_box(subject, "subject");
  validate_box(object, "object");
  if (footprints_overlap(subject, object)) {
    const double subject_bottom = subject.center.z - subject.size.z / 2;
    const double subject_top = subject.center.z + subject.size.z / 2;
    const double object_bottom = object.center.z - object.size.z / 2;
    const double object_top = object.center.z + object.size.z / 2;
    if (std::abs(subject_bottom - object_top) <= kContactGap) return "on";
    if (std::abs(object_bottom - subject_top) <= kContactGap) return "under";
    if (subject_bottom - object_top > kContactGap) return "above";
    if (object_bottom - subject_top > kContactGap) return "below";
  }
  const double distance = box_distance(subject, object);
  if (distance <= kNextToDistance) return "next_to";
  if (distance <= kNearDistance) return "near";
  return "far_from";
}

bool operator==(const Object& a, const Object& b) {
  const auto box_tuple = [](const Box3D& x) {
    return std::make_tuple(x.center.x, x.center.y, x.center.z, x.size.x, x.size.y, x.size.z, x.yaw);
  };
  return a.id == b.id && a.label == b.label && box_tuple(a.box) == box_tuple(b.box) &&
         a.confidence == b.confidence && a.first_seen == b.first_seen && a.last_seen == b.last_seen &&
         a.observations == b.observations;
}

bool operator==(const Triplet& a, const Triplet& b) {
  return a.subject == b.subject && a.predicate == b.predicate && a.object == b.object &&
         a.offset.x == b.offset.x && a.offset.y == b.offset.y && a.offset.z == b.offset.z;
}

bool operator==(const SceneGraph& a, const SceneGraph& b) {
  const auto same_point = [](Vec2 p, Vec2 q) { return p.x == q.x && p.y == q.y; };
  return a.objects_ == b.objects_ && a.triplets_ == b.triplets_ && a.next_index_ == b.next_index_ &&
         std::equal(a.room_polygon.begin(), a.room_polygon.end(), b.room_polygon.begin(),
                    b.room_polygon.end(), same_point);
}

std::pair<std::string, int> parse_object_id(const std::string& id, const std::string& field) {
  const auto hash = id.find('#');
  const std::string label = id.substr(0, hash);
  const std::string number = hash == std::string::npos ? "" : id.substr(hash + 1);
  const bool number_ok = !number.empty() && number.size() <= 6 && number[0] != '0' &&
                         std::all_of(number.begin(), number.end(),
                                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!is_label(label) || !number_ok) {
    throw InvalidInput(field, "'" + id + "' is not an object id of the form label#n (e.g. chair#2)");
  }
  return {label, std::stoi(number)};
}

std::string SceneGraph::add_object(Object object) {
  if (object.id.empty()) {
    if (!is_label(object.label)) {
      throw InvalidInput("object.label", "'" + object.label + "' is not a label ([a-z][a-z0-9_]*)");
    }
    int& next = next_index_[object.label];
    next = std::max(next, 1);
    while (has_object(object.label + "#" + std::to_string(next))) ++next;
    object.id = object.label + "#" + std::to_string(next++);
  } else {
    auto [label, n] = parse_object_id(object.id, "object.id");
    if (!object.label.empty() && object.label != label) {
      throw InvalidInput("object.label", "'" + object.label + "' does not match id '" + object.id + "'");
    }
    if (has_object(object.id)) throw InvalidInput("object.id", "'" + object.id + "' already exists");
    object.label = label;
    int& next = next_index_[label];
    next = std::max(next, n + 1);
  }
  validate_box(object.box, "object.box");
  if (!(object.confidence >= 0 && object.confidence <= 1)) {
    throw InvalidInput("object.confidence", "must be in [0, 1]");
  }
  if (!std::isfinite(object.first_seen) || !std::isfinite(object.last_seen) ||
      object.last_seen < object.first_seen) {
    throw InvalidInput("object.last_seen", "times must be finite with first_seen <= last_seen");
  }
  if (object.observations < 1) throw InvalidInput("object.observations", "must be >= 1");
  objects_.push_back(std::move(object));
  return objects_.back().id;
}

bool SceneGraph::has_object(const std::string& id) const {
  return std::any_of(objects_.begin(), objects_.end(), [&](const Object& o) { return o.id == id; });
}

const Object& SceneGraph::object(const std::string& id) const {
  for (const Object& o : objects_) {
    if (o.id == id) return o;
  }
  throw QueryError("no object '" + id + "' in the scene graph");
}

Object& SceneGraph::mutable_object(const std::string& id) {
  return const_cast<Object&>(static_cast<const SceneGraph&>(*this).object(id));
}

std::string SceneGraph::new_object_from(const Detection& d) {
  return add_object(Object{"", d.label, d.box, d.confidence, d.t, d.t, 1});
}

std::string SceneGraph::merge(const Detection& detection, const MergeParams& params) {
  validate_merge_params(params);
  validate_detection(detection, "detection");
  Object* best = nullptr;
  double best_score = -1;
  for (Object& o : objects_) {
    if (o.label != detection.label) continue;
    const auto score = match_score(o.box, detection.box, params);
    if (score && *score > best_score) {
      best = &o;
      best_score = *score;
    }
  }
  if (best == nullptr) return new_object_from(detection);
  absorb(*best, evidence_of(detection));
  return best->id;
}

std::vector<std::string> SceneGraph::merge_all(const std::vector<Detection>& detections,
                                               const MergeParams& params) {
  validate_merge_params(params);
  for (size_t d = 0; d < detections.size(); ++d) {
    validate_detection(detections[d], "detections[" + std::to_string(d) + "]");
  }
  struct Candidate {
    double score;
    size_t detection, object;
  };
  std::vector<Candidate> candidates;
  for (size_t d = 0; d < detections.size(); ++d) {
    for (size_t o = 0; o < objects_.size(); ++o) {
      if (objects_[o].label != detections[d].label) continue;
      if (auto score = match_score(objects_[o].box, detections[d].box, params)) {
        candidates.push_back({*score, d, o});
      }
    }
  }
  // Stable: equal scores keep detection order, then object order.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> match(detections.size(), kNone);
  std::vector<bool> taken(objects_.size(), false);
  for (const Candidate& c : candidates) {
    if (match[c.detection] != kNone || taken[c.object]) continue;
    match[c.detection] = c.object;
    taken[c.object] = true;
  }
  std::vector<std::string> ids;
  for (size_t d = 0; d < detections.size(); ++d) {
    if (match[d] == kNone) {
      ids.push_back(new_object_from(detections[d]));
    } else {
      absorb(objects_[match[d]], evidence_of(detections[d]));
      ids.push_back(objects_[match[d]].id);
    }
  }
  return ids;
}

std::vector<std::string> SceneGraph::dedupe(const MergeParams& params) {
  validate_merge_params(params);
  std::vector<std::string> removed;
  while (true) {
    const Object* first = nullptr;
    const Object* second = nullptr;
    double best_score = -1;
    for (size_t i = 0; i < objects_.size(); ++i) {
      for (size_t j = i + 1; j < objects_.size(); ++j) {
        if (objects_[i].label != objects_[j].label) continue;
        const auto score = match_score(objects_[i].box, objects_[j].box, params);
        if (score && *score > best_score) {
          first = &objects_[i];
          second = &objects_[j];
          best_score = *score;
        }
      }
    }
    if (first == nullptr) return removed;
    if (seen_before(*second, *first)) std::swap(first, second);
    const std::string kept = first->id, gone = second->id;
    absorb(mutable_object(kept), evidence_of(*second));
    for (Triplet& t : triplets_) {
      if (t.subject == gone) t.subject = kept;
      if (t.object == gone) t.object = kept;
    }
    triplets_.erase(std::remove_if(triplets_.begin(), triplets_.end(),
                                   [](const Triplet& t) { return t.subject == t.object; }),
                    triplets_.end());
    remove_object(gone);
    removed.push_back(gone);
  }
}

std::vector<const Object*> SceneGraph::objects_with_label(const std::string& label) const {
  std::vector<const Object*> out;
  for (const Object& o : objects_) {
    if (o.label == label) out.push_back(&o);
  }
  return out;
}

void SceneGraph::remove_object(const std::string& id) {
  object(id);  // throws when absent
  objects_.erase(std::remove_if(objects_.begin(), objects_.end(),
                                [&](const Object& o) { return o.id == id; }),
                 objects_.end());
  triplets_.erase(std::remove_if(triplets_.begin(), triplets_.end(),
                                 [&](const Triplet& t) { return t.subject == id || t.object == id; }),
                  triplets_.end());
}

void SceneGraph::add_triplet(const Triplet& triplet) {
  if (!has_object(triplet.subject)) throw InvalidInput("triplet.subject", "no object '" + triplet.subject + "'");
  if (!has_object(triplet.object)) throw InvalidInput("triplet.object", "no object '" + triplet.object + "'");
  if (triplet.subject == triplet.object) throw InvalidInput("triplet.object", "an object cannot relate to itself");
  if (std::find_if(std::begin(kPredicates), std::end(kPredicates),
                   [&](const char* p) { return triplet.predicate == p; }) == std::end(kPredicates)) {
    throw InvalidInput("triplet.predicate", "unknown predicate '" + triplet.predicate + "'");
  }
  if (!std::isfinite(triplet.offset.x) || !std::isfinite(triplet.offset.y) || !std::isfinite(triplet.offset.z)) {
    throw InvalidInput("triplet.offset", "must be finite");
  }
  triplets_.push_back(triplet);
}

namespace {

// The candidate closest to `o` by box distance (ties: centre distance, then candidate order).
const Object* closest_in(const Object& o, const std::vector<const Object*>& candidates) {
  const Object* closest = nullptr;
  std::pair<double, double> closest_key;
  for (const Object* c : candidates) {
    const std::pair<double, double> key{box_distance(o.box, c->box), center_distance(o.box, c->box)};
    if (closest == nullptr || key < closest_key) {
      closest = c;
      closest_key = key;
    }
  }
  return closest;
}

}  // namespace

std::vector<Triplet> SceneGraph::extend_chain() {
  std::vector<const Object*> by_first_seen;
  for (const Object& o : objects_) by_first_seen.push_back(&o);
  std::sort(by_first_seen.begin(), by_first_seen.end(),
            [](const Object* a, const Object* b) { return seen_before(*a, *b); });

  std::set<std::string> mentioned;
  for (const Triplet& t : triplets_) {
    mentioned.insert(t.subject);
    mentioned.insert(t.object);
  }
  std::vector<const Object*> chain;
  for (const Object* o : by_first_seen) {
    if (mentioned.count(o->id)) chain.push_back(o);
  }
  if (chain.empty() && !by_first_seen.empty()) chain.push_back(by_first_seen.front());

  std::vector<Triplet> added;
  for (const Object* o : by_first_seen) {
    if (std::find(chain.begin(), chain.end(), o) != chain.end()) continue;
    const Object* closest = closest_in(*o, chain);
    added.push_back({o->id, derive_predicate(o->box, closest->box), closest->id,
                     o->box.center - closest->box.center});
    chain.push_back(o);
  }
  triplets_.insert(triplets_.end(), added.begin(), added.end());
  return added;
}

std::vector<Triplet> SceneGraph::attach(const std::vector<std::string>& ids,
                                        const std::vector<std::string>& anchors) {
  std::vector<const Object*> candidates;
  for (const std::string& id : anchors) {
    if (!has_object(id)) throw InvalidInput("anchors", "no object '" + id + "'");
    candidates.push_back(&object(id));
  }
  std::vector<const Object*> pending;
  for (const std::string& id : ids) {
    if (!has_object(id)) throw InvalidInput("ids", "no object '" + id + "'");
    if (std::find(anchors.begin(), anchors.end(), id) != anchors.end()) {
      throw InvalidInput("ids", "'" + id + "' is also an anchor");
    }
    if (std::count(ids.begin(), ids.end(), id) > 1) throw InvalidInput("ids", "'" + id + "' is listed twice");
    for (const Triplet& t : triplets_) {
      if (t.subject == id) throw InvalidInput("ids", "'" + id + "' is already attached");
    }
    pending.push_back(&object(id));
  }
  std::stable_sort(pending.begin(), pending.end(), [](const Object* a, const Object* b) { return seen_before(*a, *b); });

  std::vector<Triplet> added;
  for (const Object* o : pending) {
    const Object* closest = closest_in(*o, candidates);
    if (closest != nullptr) {
      added.push_back({o->id, derive_predicate(o->box, closest->box), closest->id, o->box.center - closest->box.center});
    }
    candidates.push_back(o);
  }
  triplets_.insert(triplets_.end(), added.begin(), added.end());
  return added;
}

std::vector<Triplet> SceneGraph::rebuild_chain() {
  triplets_.clear();
  return extend_chain();
}

CompositionReport SceneGraph::compose(const std::string& root, double tolerance) const {
  if (!(tolerance >= 0) || !std::isfinite(tolerance)) throw InvalidInput("tolerance", "must be finite and >= 0");
  CompositionReport report;
  report.root = root;
  report.positions[root] = object(root).box.center;

  std::map<std::string, std::vector<const Triplet*>> touching;
  for (const Triplet& t : triplets_) {
    touching[t.subject].push_back(&t);
    touching[t.object].push_back(&t);
  }
  std::set<std::string> inconsistent;
  std::deque<std::string> queue{root};
  while (!queue.empty()) {
    const std::string here = queue.front();
    queue.pop_front();
    const Vec3 at = report.positions.at(here);
    for (const Triplet* t : touching[here]) {
      const bool here_is_object = t->object == here;
      const std::string& there = here_is_object ? t->subject : t->object;
      const Vec3 position = here_is_object ? at + t->offset : at - t->offset;
      const auto placed = report.positions.find(there);
      if (placed == report.positions.end()) {
        report.positions[there] = position;
        queue.push_back(there);
      } else if (norm(placed->second - position) > tolerance) {
        inconsistent.insert(there);  // a second path disagrees with the first
      }
    }
  }
  for (const Object& o : objects_) {
    const auto placed = report.positions.find(o.id);
    if (placed == report.positions.end()) {
      report.unreached.push_back(o.id);
      continue;
    }
    const double residual = norm(placed->second - o.box.center);
    report.max_residual = std::max(report.max_residual, residual);
    if (residual > tolerance) inconsistent.insert(o.id);
  }
  for (const Object& o : objects_) {
    if (inconsistent.count(o.id)) report.inconsistent.push_back(o.id);
  }
  return report;
}

// --- JSON file -------------------------------------------------------------------------------------
//
// Each record's fields are listed once, in file order, by a *_fields function; the writer and the
// reader both walk that list, so a field cannot be written but not read (or the reverse).

namespace {

template <class B, class Visit>
void box_fields(B& box, Visit&& visit) {
  visit("center", box.center);
  visit("size", box.size);
  visit("yaw", box.yaw);
}

template <class O, class Visit>
void object_fields(O& object, Visit&& visit) {
  visit("id", object.id);
  visit("label", object.label);
  visit("box", object.box);
  visit("confidence", object.confidence);
  visit("first_seen", object.first_seen);
  visit("last_seen", object.last_seen);
  visit("observations", object.observations);
}

template <class T, class Visit>
void triplet_fields(T& triplet, Visit&& visit) {
  visit("subject", triplet.subject);
  visit("predicate", triplet.predicate);
  visit("object", triplet.object);
  visit("offset", triplet.offset);
}

json::Value to_value(const std::string& s) { return json::Value(s); }
json::Value to_value(double number) { return json::Value(number); }
json::Value to_value(int number) { return json::Value(number); }
json::Value to_value(const Vec3& v) { return json::Array{v.x, v.y, v.z}; }
json::Value to_value(Vec2 p) { return json::Array{p.x, p.y}; }

template <class Record, class Fields>
json::Value record_to_value(const Record& record, Fields fields);

json::Value to_value(const Box3D& box) {
  return record_to_value(box, [](const Box3D& b, auto&& visit) { box_fields(b, visit); });
}

template <class Record, class Fields>
json::Value record_to_value(const Record& record, Fields fields) {
  json::Object out;
  fields(record, [&out](const char* name, const auto& field) { out.emplace_back(name, to_value(field)); });
  return out;
}

[[noreturn]] void mistyped(const std::string& path, const char* expected, const json::Value& got) {
  throw InvalidInput(path, std::string("expected ") + expected + ", got " + json::type_name(got.type()));
}

void read(const json::Value& v, const std::string& path, std::string& out) {
  if (!v.is(json::Type::kString)) mistyped(path, "a string", v);
  out = v.as_string();
}

void read(const json::Value& v, const std::string& path, double& out) {
  if (!v.is(json::Type::kNumber)) mistyped(path, "a number", v);
  out = v.as_number();
}

void read(const json::Value& v, const std::string& path, int& out) {
  double number;
  read(v, path, number);
  if (number != std::floor(number) || number < INT_MIN || number > INT_MAX) {
    throw InvalidInput(path, "expected an integer, got " + json::format_number(number));
  }
  out = static_cast<int>(number);
}

const json::Array& read_array(const json::Value& v, const std::string& path) {
  if (!v.is(json::Type::kArray)) mistyped(path, "an array", v);
  return v.as_array();
}

void read_numbers(const json::Value& v, const std::string& path, double* out, size_t n) {
  const json::Array& items = read_array(v, path);
  if (items.size() != n) {
    throw InvalidInput(path, "expected " + std::to_string(n) + " numbers, got " + std::to_string(items.size()));
  }
  for (size_t i = 0; i < n; ++i) read(items[i], path + "[" + std::to_string(i) + "]", out[i]);
}

void read(const json::Value& v, const std::string& path, Vec3& out) {
  double xyz[3];
  read_numbers(v, path, xyz, 3);
  out = {xyz[0], xyz[1], xyz[2]};
}

void read(const json::Value& v, const std::string& path, Vec2& out) {
  double xy[2];
  read_numbers(v, path, xy, 2);
  out = {xy[0], xy[1]};
}

void read(const json::Value& v, const std::string& path, Box3D& out);

// Reads the members `fields` lists (each one required) and refuses any other member.
template <class Record, class Fields>
void read_record(const json::Value& v, const std::string& path, Record& record, Fields fields) {
  if (!v.is(json::Type::kObject)) mistyped(path, "an object", v);
  std::set<std::string> known;
  fields(record, [&](const char* name, auto& field) {
    const std::string field_path = path.empty() ? name : path + "." + name;
    const json::Value* member = v.find(name);
    if (member == nullptr) throw InvalidInput(field_path, "missing");
    read(*member, field_path, field);
    known.insert(name);
  });
  for (const auto& member : v.as_object()) {
    if (!known.count(member.first)) {
      throw InvalidInput(path.empty() ? member.first : path + "." + member.first, "unknown field");
    }
  }
}

void read(const json::Value& v, const std::string& path, Box3D& out) {
  read_record(v, path, out, [](Box3D& b, auto&& visit) { box_fields(b, visit); });
}

// An error that add_object/add_triplet reported under `from` ("object.box"), renamed to where the
// record sits in the file ("objects[3].box").
[[noreturn]] void rethrow_at(const InvalidInput& e, const std::string& from, const std::string& to) {
  const std::string& field = e.field();
  const std::string renamed = field.compare(0, from.size(), from) == 0 ? to + field.substr(from.size()) : to;
  const std::string what = e.what();
  throw InvalidInput(renamed, what.substr(std::min(what.size(), field.size() + 2)));
}

void validate_room_polygon(const std::vector<Vec2>& polygon) {
  if (!polygon.empty() && polygon.size() < 3) {
    throw InvalidInput("room_polygon", "needs at least 3 vertices (or none when unknown)");
  }
  for (size_t i = 0; i < polygon.size(); ++i) {
    if (!std::isfinite(polygon[i].x) || !std::isfinite(polygon[i].y)) {
      throw InvalidInput("room_polygon[" + std::to_string(i) + "]", "must be finite");
    }
  }
}

void check_header(const json::Value& document) {
  std::string format;
  int version = 0;
  std::string generator;
  const json::Value* format_value = document.find("format");
  if (format_value == nullptr) throw InvalidInput("format", "missing: not an " + std::string(kSceneGraphFormat) + " file");
  read(*format_value, "format", format);
  if (format != kSceneGraphFormat) {
    throw InvalidInput("format", "'" + format + "' is not " + kSceneGraphFormat);
  }
  const json::Value* version_value = document.find("version");
  if (version_value == nullptr) throw InvalidInput("version", "missing");
  read(*version_value, "version", version);
  if (version > kSceneGraphVersion) {
    throw InvalidInput("version", "the file is version " + std::to_string(version) + ", this ssr-runtime (" SSR_VERSION
                       ") reads versions up to " + std::to_string(kSceneGraphVersion) + "; upgrade ssr-runtime to load it");
  }
  if (version < 1) throw InvalidInput("version", "must be >= 1, got " + std::to_string(version));
  const json::Value* generator_value = document.find("generator");
  if (generator_value == nullptr) throw InvalidInput("generator", "missing");
  read(*generator_value, "generator", generator);
}

const char* const kTopLevelFields[] = {"format", "version", "generator", "objects",
                                       "triplets", "room_polygon", "next_index"};

const json::Value& required(const json::Value& document, const char* name) {
  const json::Value* v = document.find(name);
  if (v == nullptr) throw InvalidInput(name, "missing");
  return *v;
}

}  // namespace

std::string SceneGraph::to_json() const {
  validate_room_polygon(room_polygon);
  json::Array objects, triplets, polygon;
  for (const Object& o : objects_) {
    objects.push_back(record_to_value(o, [](const Object& r, auto&& visit) { object_fields(r, visit); }));
  }
  for (const Triplet& t : triplets_) {
    triplets.push_back(record_to_value(t, [](const Triplet& r, auto&& visit) { triplet_fields(r, visit); }));
  }
  for (Vec2 p : room_polygon) polygon.push_back(to_value(p));
  json::Object next_index;
  for (const auto& [label, n] : next_index_) next_index.emplace_back(label, json::Value(n));
  const json::Object document{{"format", kSceneGraphFormat},
                              {"version", kSceneGraphVersion},
                              {"generator", "ssr-runtime " SSR_VERSION},
                              {"objects", std::move(objects)},
                              {"triplets", std::move(triplets)},
                              {"room_polygon", std::move(polygon)},
                              {"next_index", std::move(next_index)}};
  return json::write(document) + "\n";
}

SceneGraph SceneGraph::from_json(const std::string& text) {
  const json::Value document = json::parse(text);
  if (!document.is(json::Type::kObject)) mistyped("document", "an object", document);
  check_header(document);
  for (const auto& member : document.as_object()) {
    if (std::find_if(std::begin(kTopLevelFields), std::end(kTopLevelFields),
                     [&](const char* f) { return member.first == f; }) == std::end(kTopLevelFields)) {
      throw InvalidInput(member.first, "unknown field");
    }
  }
  SceneGraph graph;
  const json::Array& objects = read_array(required(document, "objects"), "objects");
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string path = "objects[" + std::to_string(i) + "]";
    Object o;
    read_record(objects[i], path, o, [](Object& r, auto&& visit) { object_fields(r, visit); });
    // add_object would make up an id for an empty one and a label for an empty one: a file must
    // state both, consistently.
    if (parse_object_id(o.id, path + ".id").first != o.label) {
      throw InvalidInput(path + ".label", "'" + o.label + "' does not match id '" + o.id + "'");
    }
    try {
      graph.add_object(o);
    } catch (const InvalidInput& e) {
      rethrow_at(e, "object", path);
    }
  }
  const json::Array& triplets = read_array(required(document, "triplets"), "triplets");
  for (size_t i = 0; i < triplets.size(); ++i) {
    const std::string path = "triplets[" + std::to_string(i) + "]";
    Triplet t;
    read_record(triplets[i], path, t, [](Triplet& r, auto&& visit) { triplet_fields(r, visit); });
    try {
      graph.add_triplet(t);
    } catch (const InvalidInput& e) {
      rethrow_at(e, "triplet", path);
    }
  }
  const json::Array& polygon = read_array(required(document, "room_polygon"), "room_polygon");
  for (size_t i = 0; i < polygon.size(); ++i) {
    Vec2 p;
    read(polygon[i], "room_polygon[" + std::to_string(i) + "]", p);
    graph.room_polygon.push_back(p);
  }
  validate_room_polygon(graph.room_polygon);
  const json::Value& next_index = required(document, "next_index");
  if (!next_index.is(json::Type::kObject)) mistyped("next_index", "an object", next_index);
  for (const auto& [label, value] : next_index.as_object()) {
    const std::string path = "next_index." + label;
    int n = 0;
    read(value, path, n);
    parse_object_id(label + "#1", path);  // the key must be a label
    if (n < 1) throw InvalidInput(path, "must be >= 1");
    int& next = graph.next_index_[label];
    next = std::max(next, n);
  }
  return graph;
}

void SceneGraph::save(const std::string& path) const { json::write_file_atomic(path, to_json()); }

SceneGraph SceneGraph::load(const std::string& path) { return from_json(json::read_file(path)); }

}  // namespace ssr
