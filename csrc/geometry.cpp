#include "geometry.h"

#include <algorithm>
#include <limits>

#include "errors.h"

namespace ssr {

namespace {

std::vector<Vec2> footprint_polygon(const Box3D& box) {
  auto corners = box_footprint(box);
  return {corners.begin(), corners.end()};
}

// Overlap length of [a0, a1] and [b0, b1] (0 when disjoint).
double interval_overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

// Gap between [a0, a1] and [b0, b1] (0 when they overlap).
double interval_gap(double a0, double a1, double b0, double b1) {
  return std::max({0.0, b0 - a1, a0 - b1});
}

double point_segment_distance(Vec2 p, Vec2 a, Vec2 b) {
  Vec2 ab = b - a;
  double len2 = dot(ab, ab);
  double t = len2 > 0 ? std::clamp(dot(p - a, ab) / len2, 0.0, 1.0) : 0.0;
  Vec2 closest{a.x + t * ab.x, a.y + t * ab.y};
  Vec2 d = p - closest;
  return std::sqrt(dot(d, d));
}

// Where segment p->q crosses the infinite line through a->b.
Vec2 line_intersection(Vec2 p, Vec2 q, Vec2 a, Vec2 b) {
  double cp = cross(b - a, p - a);
  double cq = cross(b - a, q - a);
  double t = cp / (cp - cq);
  return {p.x + t * (q.x - p.x), p.y + t * (q.y - p.y)};
}

}  // namespace

void validate_box(const Box3D& box, const std::string& field) {
  const double values[] = {box.center.x, box.center.y, box.center.z, box.size.x,
                           box.size.y,   box.size.z,   box.yaw};
  for (double v : values) {
    if (!std::isfinite(v)) throw InvalidInput(field, "box has a non-finite value");
  }
  if (box.size.x <= 0 || box.size.y <= 0 || box.size.z <= 0) {
    throw InvalidInput(field, "box size (l, w, h) must be > 0");
  }
}

double wrap_angle(double radians) {
  double wrapped = std::remainder(radians, 2 * kPi);  // in [-pi, pi]
  return wrapped <= -kPi ? wrapped + 2 * kPi : wrapped;
}

std::array<Vec2, 4> box_footprint(const Box3D& box) {
  const double c = std::cos(box.yaw), s = std::sin(box.yaw);
  const double hl = box.size.x / 2, hw = box.size.y / 2;
  const double local[4][2] = {{hl, hw}, {-hl, hw}, {-hl, -hw}, {hl, -hw}};
  std::array<Vec2, 4> out;
  for (int i = 0; i < 4; ++i) {
    out[i] = {box.center.x + c * local[i][0] - s * local[i][1],
              box.center.y + s * local[i][0] + c * local[i][1]};
  }
  return out;
}

std::array<Vec3, 8> box_corners(const Box3D& box) {
  auto fp = box_footprint(box);
  const double z0 = box.center.z - box.size.z / 2, z1 = box.center.z + box.size.z / 2;
  std::array<Vec3, 8> out;
  for (int i = 0; i < 4; ++i) {
    out[i] = {fp[i].x, fp[i].y, z0};
    out[i + 4] = {fp[i].x, fp[i].y, z1};
  }
  return out;
}

double box_volume(const Box3D& box) { return box.size.x * box.size.y * box.size.z; }

double longest_side(const Box3D& box) { return std::max({box.size.x, box.size.y, box.size.z}); }

double polygon_area(const std::vector<Vec2>& polygon) {
  double twice = 0;
  for (size_t i = 0, n = polygon.size(); i < n; ++i) {
    twice += cross(polygon[i], polygon[(i + 1) % n]);
  }
  return std::abs(twice) / 2;
}

std::vector<Vec2> convex_intersection(const std::vector<Vec2>& a, const std::vector<Vec2>& b) {
  std::vector<Vec2> out = a;
  for (size_t i = 0, n = b.size(); i < n && !out.empty(); ++i) {
    Vec2 e0 = b[i], e1 = b[(i + 1) % n];
    std::vector<Vec2> in;
    in.swap(out);
    for (size_t j = 0, m = in.size(); j < m; ++j) {
      Vec2 p = in[j], q = in[(j + 1) % m];
      bool p_in = cross(e1 - e0, p - e0) >= 0, q_in = cross(e1 - e0, q - e0) >= 0;
      if (p_in) out.push_back(p);
      if (p_in != q_in) out.push_back(line_intersection(p, q, e0, e1));
    }
  }
  return out;
}

bool point_in_polygon(Vec2 p, const std::vector<Vec2>& polygon) {
  bool inside = false;
  for (size_t i = 0, n = polygon.size(), j = n - 1; i < n; j = i++) {
    Vec2 a = polygon[i], b = polygon[j];
    if (point_segment_distance(p, a, b) < 1e-12) return true;
    if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) {
      inside = !inside;
    }
  }
  return inside;
}

double convex_distance(const std::vector<Vec2>& a, const std::vector<Vec2>& b) {
  if (polygon_area(convex_intersection(a, b)) > 0) return 0;
  // Disjoint (or touching) convex polygons: the closest pair involves a vertex of one of them.
  double best = std::numeric_limits<double>::infinity();
  auto scan = [&best](const std::vector<Vec2>& pts, const std::vector<Vec2>& poly) {
    for (Vec2 p : pts) {
      for (size_t i = 0, n = poly.size(); i < n; ++i) {
        best = std::min(best, point_segment_distance(p, poly[i], poly[(i + 1) % n]));
      }
    }
  };
  scan(a, b);
  scan(b, a);
  return best;
}

double box_iou_3d(const Box3D& a, const Box3D& b) {
  double z_overlap = interval_overlap(a.center.z - a.size.z / 2, a.center.z + a.size.z / 2,
                                      b.center.z - b.size.z / 2, b.center.z + b.size.z / 2);
  if (z_overlap <= 0) return 0;
  double area = polygon_area(convex_intersection(footprint_polygon(a), footprint_polygon(b)));
  double inter = area * z_overlap;
  double uni = box_volume(a) + box_volume(b) - inter;
  return uni > 0 ? std::clamp(inter / uni, 0.0, 1.0) : 0.0;
}

double box_distance(const Box3D& a, const Box3D& b) {
  double dz = interval_gap(a.center.z - a.size.z / 2, a.center.z + a.size.z / 2,
                           b.center.z - b.size.z / 2, b.center.z + b.size.z / 2);
  double dxy = convex_distance(footprint_polygon(a), footprint_polygon(b));
  return std::sqrt(dxy * dxy + dz * dz);
}

}  // namespace ssr
