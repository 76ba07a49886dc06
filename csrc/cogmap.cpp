#include "cogmap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "errors.h"

namespace ssr {

namespace {

void validate_res(double res) {
  if (!(res > 0) || !std::isfinite(res)) throw InvalidInput("res", "must be finite and > 0");
}

Vec2 center_xy(const Object& o) { return {o.box.center.x, o.box.center.y}; }

// Axis-aligned bounds of a set of points: lower and upper corner.
std::pair<Vec2, Vec2> bounds(const std::vector<Vec2>& points) {
  Vec2 lo{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  Vec2 hi{-lo.x, -lo.y};
  for (Vec2 p : points) {
    lo = {std::min(lo.x, p.x), std::min(lo.y, p.y)};
    hi = {std::max(hi.x, p.x), std::max(hi.y, p.y)};
  }
  return {lo, hi};
}

std::vector<Vec2> room_outline(const SceneGraph& graph) {
  if (!graph.room_polygon.empty()) return graph.room_polygon;
  std::vector<Vec2> corners;
  for (const Object& o : graph.objects()) {
    for (Vec2 c : box_footprint(o.box)) corners.push_back(c);
  }
  return corners;
}

void check_cell(const CogMapCell& c, const std::string& field) {
  if (c.i < 0 || c.i >= kCogMapSize || c.j < 0 || c.j >= kCogMapSize) {
    throw InvalidInput(field, "cell (" + std::to_string(c.i) + "," + std::to_string(c.j) + ") is outside 0.." +
                                  std::to_string(kCogMapSize - 1));
  }
}

// id -> cell, refusing an id listed twice.
std::map<std::string, const CogMapCell*> index_cells(const CogMap& map, const std::string& field) {
  std::map<std::string, const CogMapCell*> out;
  for (size_t k = 0; k < map.cells.size(); ++k) {
    if (!out.emplace(map.cells[k].id, &map.cells[k]).second) {
      throw InvalidInput(field + ".cells[" + std::to_string(k) + "]", "'" + map.cells[k].id + "' is listed twice");
    }
  }
  return out;
}

}  // namespace

std::optional<CogMapCell> cogmap_cell(const std::string& id, Vec2 p, Vec2 center, double res) {
  validate_res(res);
  const double half = kCogMapSize / 2;
  const double fi = std::floor((p.x - center.x) / res) + half;
  const double fj = std::floor((p.y - center.y) / res) + half;
  // Compared as doubles first: a far-away point must not overflow the int conversion.
  if (!(fi >= 0 && fi < kCogMapSize && fj >= 0 && fj < kCogMapSize)) return std::nullopt;
  return CogMapCell{id, static_cast<int>(fi), static_cast<int>(fj)};
}

CogMap build_cogmap(const SceneGraph& graph, const std::string& anchor_id, double res) {
  validate_res(res);
  const Vec2 center = center_xy(graph.object(anchor_id));
  CogMap map{anchor_id, res, std::nullopt, {}};
  for (const Object& o : graph.objects()) {
    if (o.id == anchor_id) continue;
    if (auto cell = cogmap_cell(o.id, center_xy(o), center, res)) map.cells.push_back(*cell);
  }
  return map;
}

CogMap build_cogmap_at(const SceneGraph& graph, const std::string& anchor, Vec2 at, double res) {
  if (anchor != "camera" && anchor != "room") {
    throw InvalidInput("anchor", "'" + anchor + "' is not 'camera' or 'room' (object anchors use build_cogmap)");
  }
  if (!std::isfinite(at.x) || !std::isfinite(at.y)) throw InvalidInput("at", "must be finite");
  validate_res(res);
  CogMap map{anchor, res, at, {}};
  for (const Object& o : graph.objects()) {
    if (auto cell = cogmap_cell(o.id, center_xy(o), at, res)) map.cells.push_back(*cell);
  }
  return map;
}

CogMap build_global_cogmap(const SceneGraph& graph, int size) {
  if (size < 1 || size > kCogMapSize) {
    throw InvalidInput("size", "must be in 1.." + std::to_string(kCogMapSize) + ", got " + std::to_string(size));
  }
  const std::vector<Vec2> outline = room_outline(graph);
  if (outline.empty()) throw InvalidInput("graph", "has neither a room polygon nor objects to size a global map");
  for (Vec2 p : outline) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) throw InvalidInput("room_polygon", "must be finite");
  }
  const auto [lo, hi] = bounds(outline);
  const double extent = std::max(hi.x - lo.x, hi.y - lo.y);
  // Whole centimetres; the small slack keeps 0.3 m from becoming 0.31 m through rounding noise.
  const double res = std::max(0.01, std::ceil(extent / size * 100 - 1e-9) / 100);
  return build_cogmap_at(graph, "room", {(lo.x + hi.x) / 2, (lo.y + hi.y) / 2}, res);
}

LocalizationError localization_error(const CogMap& predicted, const CogMap& truth) {
  if (predicted.anchor != truth.anchor) {
    throw InvalidInput("predicted.anchor", "'" + predicted.anchor + "' differs from the truth's '" + truth.anchor + "'");
  }
  if (std::abs(predicted.res - truth.res) > 1e-9 * std::max(1.0, std::abs(truth.res))) {
    throw InvalidInput("predicted.res", "differs from the truth's res");
  }
  const auto predicted_cells = index_cells(predicted, "predicted");
  const auto truth_cells = index_cells(truth, "truth");
  LocalizationError out;
  double total = 0;
  for (const CogMapCell& t : truth.cells) {
    const auto found = predicted_cells.find(t.id);
    if (found == predicted_cells.end()) {
      out.missing.push_back(t.id);
      continue;
    }
    total += std::hypot(found->second->i - t.i, found->second->j - t.j);
    ++out.matched;
  }
  for (const CogMapCell& p : predicted.cells) {
    if (!truth_cells.count(p.id)) out.extra.push_back(p.id);
  }
  out.mean_cells = out.matched > 0 ? total / out.matched : std::numeric_limits<double>::quiet_NaN();
  return out;
}

CogMapGrid cogmap_grid(const CogMap& map) {
  CogMapGrid grid(kCogMapSize, std::vector<std::vector<std::string>>(kCogMapSize));
  for (size_t k = 0; k < map.cells.size(); ++k) {
    const CogMapCell& c = map.cells[k];
    check_cell(c, "cells[" + std::to_string(k) + "]");
    grid[c.i][c.j].push_back(c.id);
  }
  return grid;
}

std::string render_cogmap(const CogMap& map) {
  const CogMapGrid grid = cogmap_grid(map);
  std::vector<std::vector<std::string>> text(kCogMapSize, std::vector<std::string>(kCogMapSize, "."));
  size_t width = 1;
  for (int i = 0; i < kCogMapSize; ++i) {
    for (int j = 0; j < kCogMapSize; ++j) {
      if (grid[i][j].empty()) continue;
      std::string joined;
      for (const std::string& id : grid[i][j]) joined += (joined.empty() ? "" : ",") + id;
      text[i][j] = joined;
      width = std::max(width, joined.size());
    }
  }
  std::string out;
  for (int j = kCogMapSize - 1; j >= 0; --j) {
    std::string line;
    for (int i = 0; i < kCogMapSize; ++i) {
      if (i > 0) line += ' ';
      line += text[i][j] + std::string(width - text[i][j].size(), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

}  // namespace ssr
