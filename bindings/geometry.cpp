#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>

#include "bindings.h"
#include "geometry.h"

namespace {

using Triple = std::array<double, 3>;

Triple to_triple(const ssr::Vec3& v) { return {v.x, v.y, v.z}; }
ssr::Vec3 to_vec3(const Triple& t) { return {t[0], t[1], t[2]}; }

}  // namespace

void init_geometry(py::module_& m) {
  py::class_<ssr::Box3D>(m, "Box3D",
                         "Gravity-aligned 7-DoF box in the world frame (z up, metres): centre, "
                         "size (l along the heading, w, h) and yaw in radians about +z.")
      .def(py::init([](const Triple& center, const Triple& size, double yaw) {
             ssr::Box3D box{to_vec3(center), to_vec3(size), yaw};
             ssr::validate_box(box, "box");
             return box;
           }),
           py::arg("center"), py::arg("size"), py::arg("yaw") = 0.0)
      .def_property(
          "center", [](const ssr::Box3D& b) { return to_triple(b.center); },
          [](ssr::Box3D& b, const Triple& c) { b.center = to_vec3(c); }, "(x, y, z), metres")
      .def_property(
          "size", [](const ssr::Box3D& b) { return to_triple(b.size); },
          [](ssr::Box3D& b, const Triple& s) {
            ssr::Box3D candidate = b;
            candidate.size = to_vec3(s);
            ssr::validate_box(candidate, "box.size");
            b = candidate;
          },
          "(l, w, h), metres, all > 0")
      .def_readwrite("yaw", &ssr::Box3D::yaw, "radians about +z; l lies along the heading")
      .def("corners",
           [](const ssr::Box3D& b) {
             auto corners = ssr::box_corners(b);
             py::array_t<double> out({8, 3});
             auto view = out.mutable_unchecked<2>();
             for (int i = 0; i < 8; ++i) {
               view(i, 0) = corners[i].x;
               view(i, 1) = corners[i].y;
               view(i, 2) = corners[i].z;
             }
             return out;
           },
           "8×3 float64 corners: bottom face counter-clockwise, then the top face")
      .def_property_readonly("volume", &ssr::box_volume, "m³")
      .def_property_readonly("longest_side", &ssr::longest_side, "max(l, w, h), metres")
      .def("__eq__",
           [](const ssr::Box3D& a, const ssr::Box3D& b) {
             return to_triple(a.center) == to_triple(b.center) &&
                    to_triple(a.size) == to_triple(b.size) && a.yaw == b.yaw;
           })
      .def("__repr__", [](const ssr::Box3D& b) {
        return py::str("Box3D(center=({:.3f}, {:.3f}, {:.3f}), size=({:.3f}, {:.3f}, {:.3f}), "
                       "yaw={:.3f})")
            .format(b.center.x, b.center.y, b.center.z, b.size.x, b.size.y, b.size.z, b.yaw);
      });

  m.def("box_iou_3d", &ssr::box_iou_3d, py::arg("a"), py::arg("b"),
        "Intersection-over-union of the volumes of two yawed boxes, in [0, 1].");
  m.def("box_distance", &ssr::box_distance, py::arg("a"), py::arg("b"),
        "Distance in metres between the closest points of two boxes (0 when they touch).");
  m.def(
      "polygon_area",
      [](const std::vector<std::array<double, 2>>& pts) {
        std::vector<ssr::Vec2> poly;
        for (auto& p : pts) poly.push_back({p[0], p[1]});
        return ssr::polygon_area(poly);
      },
      py::arg("polygon"), "Area of a simple polygon given as (x, y) vertices, m².");
}
