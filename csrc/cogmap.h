// LocalCogMap: a 10×10 bird's-eye grid, world-aligned, centred on an anchor (an object, the camera
// or the room). Cell (i, j): i counts along +x, j along +y, 0..9 (see docs/FORMATS.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "geometry.h"
#include "scene_graph.h"

namespace ssr {

struct CogMapCell {
  std::string id;  // object id
  int i = 0;       // column along +x, 0..kCogMapSize-1
  int j = 0;       // row along +y, 0..kCogMapSize-1
};

inline constexpr int kCogMapSize = 10;

struct CogMap {
  std::string anchor;      // object id, "camera" or "room"
  double res = 0.5;        // cell size, metres
  std::optional<Vec2> at;  // grid centre for "camera"/"room" anchors; unset for object anchors
  std::vector<CogMapCell> cells;
};

// Cell of world point `p` on a grid centred at `center` with cell size `res`:
// i = floor((p.x - center.x) / res) + kCogMapSize / 2, j likewise with y; nothing when outside.
std::optional<CogMapCell> cogmap_cell(const std::string& id, Vec2 p, Vec2 center, double res);

// LocalCogMap centred on object `anchor_id` (its box centre), holding every other object whose box
// centre falls on the grid, in graph order. QueryError if the anchor is absent; InvalidInput unless
// res is finite and > 0.
CogMap build_cogmap(const SceneGraph& graph, const std::string& anchor_id, double res = 0.5);

// Map centred at `at` (world x, y) for the "camera" or "room" anchor, holding every object on the grid.
CogMap build_cogmap_at(const SceneGraph& graph, const std::string& anchor, Vec2 at, double res = 0.5);

// One global map over the whole room (anchor "room"): centred on the bounding box of the room
// polygon (or, without one, of the objects' footprints), with res = the bounding box's larger side
// / `size` rounded up to whole centimetres (at least 0.01 m), so the room spans `size` cells
// (1..kCogMapSize; the default fills the grid). InvalidInput on an empty graph without a polygon.
CogMap build_global_cogmap(const SceneGraph& graph, int size = kCogMapSize);

// How far a predicted map puts objects from where the true map does.
struct LocalizationError {
  double mean_cells = 0;             // mean Euclidean cell distance over `matched` ids; NaN if none
  int matched = 0;                   // ids present in both maps
  std::vector<std::string> missing;  // ids of the truth absent from the prediction, truth order
  std::vector<std::string> extra;    // ids of the prediction absent from the truth, prediction order
};

// Both maps must share anchor and res (InvalidInput otherwise) and list each id at most once.
LocalizationError localization_error(const CogMap& predicted, const CogMap& truth);

// grid[i][j] = ids in cell (i, j), in map order; InvalidInput naming a cell outside 0..9.
using CogMapGrid = std::vector<std::vector<std::vector<std::string>>>;
CogMapGrid cogmap_grid(const CogMap& map);

// Bird's-eye text view: one line per row, +y at the top (j = 9 first), i = 0..9 left to right;
// a cell shows its ids joined by ',' or '.' when empty, columns padded to the widest cell.
std::string render_cogmap(const CogMap& map);

}  // namespace ssr
