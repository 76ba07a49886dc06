// Spatial query engine over a scene graph: VSI-Bench's eight task families (docs/QUERIES.md).
#pragma once

#include <string>
#include <vector>

namespace ssr {

// VSI-Bench's raw task keys, spelled as in its published tables (docs/QUERIES.md).
inline constexpr const char* kTaskKeys[] = {
    "object_counting",           "object_abs_distance",       "object_size_estimation",
    "room_size_estimation",      "object_rel_distance",       "object_rel_direction_easy",
    "object_rel_direction_medium", "object_rel_direction_hard", "route_planning",
    "obj_appearance_order"};

// A query program: a task key and its label arguments, as in `<q> object_abs_distance bed lamp </q>`.
struct Query {
  std::string task;
  std::vector<std::string> args;
};

}  // namespace ssr
