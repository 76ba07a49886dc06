#include "scene_graph.h"

#include <algorithm>
#include <cctype>

#include "errors.h"

namespace ssr {

namespace {

bool is_label(const std::string& s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}

}  // namespace

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

}  // namespace ssr
