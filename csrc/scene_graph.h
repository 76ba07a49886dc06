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
struct MergeParams {
  double min_iou = 0.05;          // 3D IoU at or above which a detection is the same object
  double max_center_dist = 0.5;   // or: centres closer than this (metres) ...
  double max_size_ratio = 2.5;    // ... and longest sides within this ratio
};

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

  // Merges one detection: updates the best-matching object of the same label (confidence-weighted
  // box average, last_seen, observations) or creates a new one. Returns the object's id.
  std::string merge(const Detection& detection, const MergeParams& params = {});

  bool has_object(const std::string& id) const;
  const Object& object(const std::string& id) const;  // throws QueryError if absent
  const std::vector<Object>& objects() const { return objects_; }
  std::vector<const Object*> objects_with_label(const std::string& label) const;
  void remove_object(const std::string& id);  // also drops triplets that mention it

  // Adds a triplet; both ends must exist (InvalidInput otherwise).
  void add_triplet(const Triplet& triplet);
  const std::vector<Triplet>& triplets() const { return triplets_; }

  // Rebuilds the triplet chain incrementally, in first-seen order: each object attaches to the
  // closest object already in the chain, with a predicate derived from geometry.
  void rebuild_chain();

  // Composes the triplet chain from `root` (placed at its box centre) into global positions.
  CompositionReport compose(const std::string& root, double tolerance = 0.05) const;

  // Floor outline of the room, counter-clockwise, world xy (empty when unknown).
  std::vector<Vec2> room_polygon;

  std::string to_json() const;
  static SceneGraph from_json(const std::string& text);  // ParseError / InvalidInput on bad input
  void save(const std::string& path) const;  // atomic: written to a temp file, then renamed
  static SceneGraph load(const std::string& path);

 private:
  std::vector<Object> objects_;
  std::vector<Triplet> triplets_;
  std::map<std::string, int> next_index_;  // label -> next n for label#n
};

// Every predicate derive_predicate can produce; the text parser accepts exactly these.
inline constexpr const char* kPredicates[] = {"on",      "under", "above",   "below",
                                              "next_to", "near",  "far_from"};

// Predicate of `subject` relative to `object` from their boxes (thresholds in scene_graph.cpp).
std::string derive_predicate(const Box3D& subject, const Box3D& object);

// Splits "label#n" into label and n; throws InvalidInput naming `field` if malformed.
std::pair<std::string, int> parse_object_id(const std::string& id, const std::string& field);

}  // namespace ssr
