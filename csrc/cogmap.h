// LocalCogMap: a 10×10 bird's-eye grid, world-aligned, centred on an anchor (an object, the camera
// or the room). Cell (i, j): i counts along +x, j along +y, 0..9 (see docs/FORMATS.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "geometry.h"

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

}  // namespace ssr
