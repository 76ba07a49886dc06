#include "pointcloud.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "errors.h"

namespace ssr {

namespace {

// Checks an N×3 array of finite values; returns N.
size_t point_count(const ArrayView<float>& points) {
  if (points.shape.size() != 2 || points.shape[1] != 3) {
    throw InvalidInput("points", "expected an N×3 array, got shape " + shape_string(points.shape));
  }
  const size_t n = static_cast<size_t>(points.shape[0]);
  for (size_t i = 0; i < 3 * n; ++i) {
    if (!std::isfinite(points.data[i])) {
      throw InvalidInput("points", "row " + std::to_string(i / 3) + " has a non-finite coordinate");
    }
  }
  return n;
}

struct VoxelKey {
  std::int64_t x, y, z;
  bool operator==(const VoxelKey& o) const { return x == o.x && y == o.y && z == o.z; }
};

struct VoxelKeyHash {
  size_t operator()(const VoxelKey& k) const {
    // Multiplicative mixing with large odd constants (as in Teschner et al.'s spatial hashing).
    std::uint64_t h = static_cast<std::uint64_t>(k.x) * 73856093ULL;
    h ^= static_cast<std::uint64_t>(k.y) * 19349663ULL;
    h ^= static_cast<std::uint64_t>(k.z) * 83492791ULL;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

struct VoxelSum {
  double x = 0, y = 0, z = 0;
  std::int64_t count = 0;
};

// floor(value / voxel_size) as an integer, refusing cells past what int64 and double hold exactly.
std::int64_t voxel_index(double value, double voxel_size) {
  double cell = std::floor(value / voxel_size);
  if (std::abs(cell) > 9.0e15) {
    throw InvalidInput("voxel_size", describe_number(voxel_size) + " is too small for coordinate " +
                                         describe_number(value) + " (voxel index out of range)");
  }
  return static_cast<std::int64_t>(cell);
}

// Convex hull of the points, counter-clockwise, without collinear vertices (Andrew's monotone
// chain).
std::vector<Vec2> convex_hull(std::vector<Vec2> pts) {
  std::sort(pts.begin(), pts.end(),
            [](Vec2 a, Vec2 b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  if (pts.size() < 3) return pts;
  std::vector<Vec2> hull(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {  // lower chain
    while (k >= 2 && cross(hull[k - 1] - hull[k - 2], pts[i] - hull[k - 2]) <= 0) --k;
    hull[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, lower = k + 1; i-- > 0;) {  // upper chain
    while (k >= lower && cross(hull[k - 1] - hull[k - 2], pts[i] - hull[k - 2]) <= 0) --k;
    hull[k++] = pts[i];
  }
  hull.resize(k - 1);  // the last point repeats the first
  return hull;
}

struct Rectangle {
  Vec2 axis;        // unit direction of one side, along a hull edge
  double a0, a1;    // extent along axis (projections)
  double b0, b1;    // extent along the left normal of axis
  double area;
};

// Minimum-area enclosing rectangle of a convex polygon given counter-clockwise (>= 3 vertices,
// no collinear ones), by rotating calipers: for each edge, the supporting vertices at the far end
// along the edge, opposite the edge, and at the near end along the edge only move forward.
Rectangle min_area_rectangle(const std::vector<Vec2>& hull) {
  const size_t n = hull.size();
  auto at = [&hull, n](size_t i) { return hull[i % n]; };
  Rectangle best{};
  best.area = std::numeric_limits<double>::infinity();
  size_t far_along = 1, far_across = 1, near_along = 1;
  for (size_t i = 0; i < n; ++i) {
    Vec2 edge = at(i + 1) - at(i);
    double len = std::sqrt(dot(edge, edge));
    Vec2 e{edge.x / len, edge.y / len};
    Vec2 normal{-e.y, e.x};  // points into the polygon
    while (dot(at(far_along + 1), e) > dot(at(far_along), e)) ++far_along;
    if (i == 0) far_across = far_along;
    while (dot(at(far_across + 1), normal) > dot(at(far_across), normal)) ++far_across;
    if (i == 0) near_along = far_across;
    while (dot(at(near_along + 1), e) < dot(at(near_along), e)) ++near_along;
    Rectangle r{e,
                dot(at(near_along), e),
                dot(at(far_along), e),
                dot(at(i), normal),
                dot(at(far_across), normal),
                0.0};
    r.area = (r.a1 - r.a0) * (r.b1 - r.b0);
    if (r.area < best.area) best = r;
  }
  return best;
}

// Yaw wrapped to (-pi/2, pi/2]: a box looks the same after a half turn.
double wrap_half_turn(double yaw) {
  double wrapped = std::remainder(yaw, kPi);  // in [-pi/2, pi/2]
  return wrapped <= -kPi / 2 ? wrapped + kPi : wrapped;
}

double median(std::vector<double> values) {
  size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

// Indices of the points kept after dropping the floor(trim * n) farthest from the per-axis median;
// ties are broken by index so the choice is deterministic.
std::vector<size_t> trimmed_indices(const float* xyz, size_t n, double trim) {
  std::vector<size_t> keep(n);
  for (size_t i = 0; i < n; ++i) keep[i] = i;
  size_t drop = static_cast<size_t>(std::floor(trim * static_cast<double>(n)));
  if (drop == 0) return keep;
  double center[3];
  for (int k = 0; k < 3; ++k) {
    std::vector<double> axis(n);
    for (size_t i = 0; i < n; ++i) axis[i] = xyz[3 * i + k];
    center[k] = median(std::move(axis));
  }
  std::vector<std::pair<double, size_t>> ranked(n);
  for (size_t i = 0; i < n; ++i) {
    double d2 = 0;
    for (int k = 0; k < 3; ++k) d2 += (xyz[3 * i + k] - center[k]) * (xyz[3 * i + k] - center[k]);
    ranked[i] = {d2, i};
  }
  std::nth_element(ranked.begin(), ranked.begin() + (n - drop), ranked.end());
  keep.resize(n - drop);
  for (size_t i = 0; i < n - drop; ++i) keep[i] = ranked[i].second;
  std::sort(keep.begin(), keep.end());
  return keep;
}

}  // namespace

std::vector<float> voxel_downsample(const ArrayView<float>& points, double voxel_size) {
  if (!(std::isfinite(voxel_size) && voxel_size > 0)) {
    throw InvalidInput("voxel_size", "must be finite and > 0 metres, got " + describe_number(voxel_size));
  }
  const size_t n = point_count(points);
  const float* xyz = points.data;
  std::unordered_map<VoxelKey, size_t, VoxelKeyHash> slot_of;
  std::vector<VoxelSum> sums;
  for (size_t i = 0; i < n; ++i) {
    const double x = xyz[3 * i], y = xyz[3 * i + 1], z = xyz[3 * i + 2];
    VoxelKey key{voxel_index(x, voxel_size), voxel_index(y, voxel_size),
                 voxel_index(z, voxel_size)};
    auto [it, inserted] = slot_of.try_emplace(key, sums.size());
    if (inserted) sums.emplace_back();
    VoxelSum& s = sums[it->second];
    s.x += x;
    s.y += y;
    s.z += z;
    ++s.count;
  }
  std::vector<float> out;
  out.reserve(3 * sums.size());
  for (const VoxelSum& s : sums) {
    out.push_back(static_cast<float>(s.x / s.count));
    out.push_back(static_cast<float>(s.y / s.count));
    out.push_back(static_cast<float>(s.z / s.count));
  }
  return out;
}

Box3D fit_box(const ArrayView<float>& points, double trim) {
  if (!(trim >= 0 && trim < 0.5)) {
    throw InvalidInput("trim", "must be in [0, 0.5), got " + describe_number(trim));
  }
  const size_t n = point_count(points);
  const std::vector<size_t> kept = trimmed_indices(points.data, n, trim);
  if (kept.size() < 3) {
    throw InvalidInput("points", "need at least 3 points to fit a box, got " +
                                     std::to_string(kept.size()) +
                                     (kept.size() < n ? " after trimming" : ""));
  }
  // Work relative to the first point so large world coordinates do not eat the precision.
  const float* xyz = points.data;
  const Vec2 origin{xyz[3 * kept[0]], xyz[3 * kept[0] + 1]};
  std::vector<Vec2> footprint;
  footprint.reserve(kept.size());
  double z_lo = xyz[3 * kept[0] + 2], z_hi = z_lo;
  for (size_t i : kept) {
    footprint.push_back(Vec2{xyz[3 * i], xyz[3 * i + 1]} - origin);
    z_lo = std::min(z_lo, static_cast<double>(xyz[3 * i + 2]));
    z_hi = std::max(z_hi, static_cast<double>(xyz[3 * i + 2]));
  }
  const std::vector<Vec2> hull = convex_hull(std::move(footprint));
  if (hull.size() < 3) {
    throw InvalidInput("points", "all points are collinear in (x, y); the footprint has no area");
  }
  if (!(z_hi > z_lo)) {
    throw InvalidInput("points",
                       "all points lie at z = " + describe_number(z_lo) + "; the box has no height");
  }
  const Rectangle r = min_area_rectangle(hull);
  const Vec2 normal{-r.axis.y, r.axis.x};
  const double mid_a = (r.a0 + r.a1) / 2, mid_b = (r.b0 + r.b1) / 2;
  const double along = r.a1 - r.a0, across = r.b1 - r.b0;
  const Vec2 heading = along >= across ? r.axis : normal;

  Box3D box;
  box.center = {origin.x + r.axis.x * mid_a + normal.x * mid_b,
                origin.y + r.axis.y * mid_a + normal.y * mid_b, (z_lo + z_hi) / 2};
  box.size = {std::max(along, across), std::min(along, across), z_hi - z_lo};
  box.yaw = wrap_half_turn(std::atan2(heading.y, heading.x));
  return box;
}

}  // namespace ssr
