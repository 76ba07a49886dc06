// Vectors and gravity-aligned 7-DoF boxes in the world frame (right-handed, z up, metres).
// Box relations (IoU, closest-point distance) are exact: a box is a convex footprint polygon
// extruded along z, so every relation splits into a 2D polygon part and a 1D interval part.
#pragma once

#include <array>
#include <cmath>
#include <string>
#include <vector>

namespace ssr {

inline constexpr double kPi = 3.14159265358979323846;

struct Vec2 {
  double x = 0, y = 0;
};

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator*(Vec3 a, double s) { return {a.x * s, a.y * s, a.z * s}; }
inline double norm(Vec3 a) { return std::sqrt(a.x * a.x + a.y * a.y + a.z * a.z); }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline double cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }
inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }

// 7-DoF box: centre (x, y, z), size (l, w, h) with l along the heading, yaw in radians about +z.
struct Box3D {
  Vec3 center;
  Vec3 size;  // l, w, h stored as x, y, z
  double yaw = 0;
};

// Throws InvalidInput naming `field` unless the box is finite with strictly positive size.
void validate_box(const Box3D& box, const std::string& field);

// Yaw wrapped to (-pi, pi].
double wrap_angle(double radians);

// Footprint corners, counter-clockwise, seen from above.
std::array<Vec2, 4> box_footprint(const Box3D& box);

// The 8 corners: footprint at the bottom face, then at the top face.
std::array<Vec3, 8> box_corners(const Box3D& box);

double box_volume(const Box3D& box);
double longest_side(const Box3D& box);

// Area of a simple polygon (absolute value of the shoelace sum).
double polygon_area(const std::vector<Vec2>& polygon);

// Intersection of two convex polygons given counter-clockwise (Sutherland-Hodgman).
std::vector<Vec2> convex_intersection(const std::vector<Vec2>& a, const std::vector<Vec2>& b);

// Distance between two convex polygons (0 when they overlap).
double convex_distance(const std::vector<Vec2>& a, const std::vector<Vec2>& b);

// Is p inside (or on) the simple polygon?
bool point_in_polygon(Vec2 p, const std::vector<Vec2>& polygon);

// Intersection-over-union of the volumes of two yawed boxes, in [0, 1].
double box_iou_3d(const Box3D& a, const Box3D& b);

// Distance between the closest points of two boxes (0 when they touch or overlap), metres.
double box_distance(const Box3D& a, const Box3D& b);

}  // namespace ssr
