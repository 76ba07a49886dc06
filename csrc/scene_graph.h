// The structured scene: objects with 7-DoF boxes, and a chain of local triplets with relative
// coordinates. Objects are keyed by `label#n` ids that stay stable for the life of a graph.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "geometry.h"

namespace ssr {

struct Object {
  std::string id;     // "label#n", n >= 1
  std::string label;  // category, [a-z][a-z0-9_]*
  Box3D box;          // world frame, metres
  double confidence = 1.0;   // in [0, 1]
  double first_seen = 0.0;   // stream timestamps, seconds
  double last_seen = 0.0;
  int observations = 1;
};

// "subject predicate object": offset = subject centre - object centre, world-aligned axes, metres.
struct Triplet {
  std::string subject;
  std::string predicate;
  std::string object;
  Vec3 offset;
};

// One observation of an object that has no id yet (from the model or from geometry).
struct Detection {
  std::string label;
  Box3D box;
  double confidence = 1.0;
  double t = 0.0;  // timestamp of the observation, seconds
};

// How a detection is matched to an object already in the graph (same label required).
// A pair matches when IoU >= min_iou, or when the centres are closer than max_center_dist and
// the longer of the two longest sides is at most max_size_ratio times the shorter. Among matches
// the best is the one with the highest score IoU + max(0, 1 - centre distance / max_center_dist).
struct MergeParams {
  double min_iou = 0.05;          // 3D IoU at or above which a detection is the same object
  double max_center_dist = 0.5;   // or: centres closer than this (metres) ...
  double max_size_ratio = 2.5;    // ... and longest sides within this ratio
};

// Throws InvalidInput naming the field unless min_iou is in [0, 1], max_center_dist is finite and
// >= 0, and max_size_ratio is finite and >= 1.
void validate_merge_params(const MergeParams& params);

// Result of composing a triplet chain from a root: where each object ends up.
struct CompositionReport {
  std::string root;
  std::map<std::string, Vec3> positions;  // composed centre per reached object
  std::vector<std::string> unreached;     // objects the chain does not connect to the root
  // Objects whose composed centre differs from their box centre (when they have one) by more than
  // the tolerance, or that are reached twice with disagreeing offsets.
  std::vector<std::string> inconsistent;
  double max_residual = 0.0;  // largest |composed - box centre| over reached objects, metres
};

class SceneGraph {
 public:
  // Adds an object. An empty id gets the next free `label#n`; a given id must be well-formed and
  // unused. Returns the stored object's id.
  std::string add_object(Object object);

  // Merges one detection: updates the best-matching object of the same label or creates a new one
  // (next label#n). Returns the object's id. The update averages centre and size weighted by
  // confidence (the object weighs confidence * observations, the detection its confidence), yaw
  // likewise on the doubled angle (a box is the same turned by 180 degrees; the result is the
  // representative nearest the old yaw), widens [first_seen, last_seen] to the detection's time,
  // adds one observation and keeps the higher confidence. Triplet offsets are left as they are.
  std::string merge(const Detection& detection, const MergeParams& params = {});

  // Merges the detections of one frame or window: each detection updates a distinct object
  // (pairs assigned greedily by best score), the rest create new objects in input order. All
  // detections are validated before anything changes. Returns one id per detection, in order.
  std::vector<std::string> merge_all(const std::vector<Detection>& detections,
                                     const MergeParams& params = {});

  // Merges same-label objects that now match each other, best-scoring pair first, until none is
  // left. The older object (earlier first_seen, then lower n) keeps its id and absorbs the other's
  // box, observations, confidence and time span; triplets naming the removed object are re-pointed
  // to the kept one (those that would relate it to itself are dropped). Returns removed ids.
  std::vector<std::string> dedupe(const MergeParams& params = {});

  bool has_object(const std::string& id) const;
  const Object& object(const std::string& id) const;  // throws QueryError if absent
  const std::vector<Object>& objects() const { return objects_; }
  std::vector<const Object*> objects_with_label(const std::string& label) const;
  void remove_object(const std::string& id);  // also drops triplets that mention it

  // Adds a triplet; both ends must exist (InvalidInput otherwise).
  void add_triplet(const Triplet& triplet);
  const std::vector<Triplet>& triplets() const { return triplets_; }

  // Incremental chain generation: every object no triplet mentions yet attaches, in first_seen
  // order (ties by label, then n), to the closest (box_distance; ties by centre distance, then
  // chain order) object already in the chain, as Triplet{new, derive_predicate, closest, centre
  // difference}. The chain is the objects its triplets mention; with no triplets the first object
  // is its root. Returns the triplets added, in order.
  std::vector<Triplet> extend_chain();

  // Local chain step of one window: attaches the objects `ids` (in first_seen order) to the closest
  // (as extend_chain) of `anchors` and of the ids attached before them in this call. An object with no
  // candidate (no anchors, first of the window) gets no triplet and starts a new piece of the chain;
  // the others attach to it. Unknown ids, an id listed twice or also an anchor, or an id a triplet
  // already has as subject throw InvalidInput. Returns the triplets added, in order.
  std::vector<Triplet> attach(const std::vector<std::string>& ids, const std::vector<std::string>& anchors);

  // Drops every triplet and generates the chain afresh (extend_chain on an empty chain).
  std::vector<Triplet> rebuild_chain();

  // Composes the triplet chain from `root` (placed at its box centre) into global positions by a
  // breadth-first walk over the triplets in both directions (subject = object + offset, object =
  // subject - offset). QueryError if root is absent; InvalidInput unless tolerance is finite >= 0.
  CompositionReport compose(const std::string& root, double tolerance = 0.05) const;

  // Floor outline of the room, counter-clockwise, world xy (empty when unknown).
  std::vector<Vec2> room_polygon;

  // JSON file (format kSceneGraphFormat, version kSceneGraphVersion): header {format, version,
  // generator}, then objects (every field), triplets, room_polygon and next_index (label -> next
  // n). Doubles round-trip exactly. Reading: ParseError for malformed JSON; InvalidInput naming the
  // field ("objects[3].box.size") when one is missing, mistyped, unknown or invalid, and for a
  // different format or a newer version.
  std::string to_json() const;
  static SceneGraph from_json(const std::string& text);
  // Atomic: written to a temp file in the same folder, flushed to disk, renamed over `path`; on any
  // failure the previous file is left as it was. File system errors are InvalidInput("path", ...).
  void save(const std::string& path) const;
  static SceneGraph load(const std::string& path);

  // Same objects (every field, exactly), triplets, room polygon and id counters, in the same order.
  friend bool operator==(const SceneGraph& a, const SceneGraph& b);

 private:
  Object& mutable_object(const std::string& id);
  std::string new_object_from(const Detection& detection);

  std::vector<Object> objects_;
  std::vector<Triplet> triplets_;
  std::map<std::string, int> next_index_;  // label -> next n for label#n
};

bool operator==(const Object& a, const Object& b);
bool operator==(const Triplet& a, const Triplet& b);

inline constexpr const char* kSceneGraphFormat = "ssr-scene-graph";
inline constexpr int kSceneGraphVersion = 1;

// Every predicate derive_predicate can produce; the text parser accepts exactly these.
inline constexpr const char* kPredicates[] = {"on",      "under", "above",   "below",
                                              "next_to", "near",  "far_from"};

// Thresholds of derive_predicate, metres.
inline constexpr double kContactGap = 0.05;     // on/under: faces this close count as touching
inline constexpr double kNextToDistance = 0.5;  // next_to: closest points at most this far apart
inline constexpr double kNearDistance = 1.5;    // near: closest points at most this far apart

// Predicate of `subject` relative to `object`, the first rule that holds:
//   on       footprints overlap (positive area) and |subject bottom - object top| <= kContactGap
//   under    footprints overlap and |object bottom - subject top| <= kContactGap
//   above    footprints overlap and subject bottom - object top > kContactGap
//   below    footprints overlap and object bottom - subject top > kContactGap
//   next_to  box_distance <= kNextToDistance (also boxes that interpenetrate)
//   near     box_distance <= kNearDistance
//   far_from otherwise
std::string derive_predicate(const Box3D& subject, const Box3D& object);

// Splits "label#n" into label and n; throws InvalidInput naming `field` if malformed.
std::pair<std::string, int> parse_object_id(const std::string& id, const std::string& field);

}  // namespace ssr
