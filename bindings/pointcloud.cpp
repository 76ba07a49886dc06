#include "pointcloud.h"

#include <pybind11/numpy.h>

#include <utility>
#include <vector>

#include "array_util.h"
#include "bindings.h"

namespace {

using namespace ssr_bindings;

Borrowed<float> borrow_points(const py::object& points) {
  return borrow_exact<float>(points, "points", "an N×3 float32 array (use .astype(np.float32))");
}

}  // namespace

void init_pointcloud(py::module_& m) {
  m.def(
      "voxel_downsample",
      [](const py::object& points, double voxel_size) {
        auto pts = borrow_points(points);
        std::vector<float> centroids;
        {
          py::gil_scoped_release release;
          centroids = ssr::voxel_downsample(pts.view, voxel_size);
        }
        const auto n = static_cast<py::ssize_t>(centroids.size() / 3);
        return to_numpy(std::move(centroids), {n, 3});
      },
      py::arg("points"), py::arg("voxel_size"),
      R"(One centroid per occupied voxel: M×3 float32 (metres).

points: N×3 float32, finite (N may be 0). voxel_size: metres, > 0; the voxel of p is
floor(p / voxel_size) per axis. Centroids are averaged in float64 and listed in the order their
voxels are first hit by the input (deterministic).)");

  m.def(
      "fit_box",
      [](const py::object& points, double trim) {
        auto pts = borrow_points(points);
        py::gil_scoped_release release;
        return ssr::fit_box(pts.view, trim);
      },
      py::arg("points"), py::arg("trim") = 0.0,
      R"(Gravity-aligned Box3D around N×3 float32 world points (z up, metres).

Footprint: minimum-area rectangle around the convex hull of the points' (x, y) (rotating
calipers); z from the min to the max. l = longer footprint side, along the heading; yaw wrapped
to (-pi/2, pi/2]. trim in [0, 0.5): first drop the floor(trim * N) points farthest from the
per-axis median (stray depth-edge pixels). InvalidInputError for < 3 points, points collinear in
(x, y), zero height, non-finite points, wrong dtype/shape.)");
}
