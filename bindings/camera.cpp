#include "camera.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "array_util.h"
#include "bindings.h"

namespace {

using namespace ssr_bindings;

constexpr double kDefaultDepthScale = 1000.0;

// A depth array in either accepted dtype, plus the buffer that keeps it alive.
struct DepthArg {
  py::array owner;
  ssr::DepthImage image;
};

DepthArg borrow_depth(const py::object& obj, double depth_scale) {
  py::array depth = as_array(obj, "depth");
  if (has_dtype<float>(depth)) {
    auto b = borrow_contiguous<float>(depth);
    return {b.owner, ssr::depth_from_metres(b.view)};
  }
  if (has_dtype<std::uint16_t>(depth)) {
    auto b = borrow_contiguous<std::uint16_t>(depth);
    return {b.owner, ssr::depth_from_raw(b.view, depth_scale)};
  }
  throw ssr::InvalidInput("depth", "expected an H×W float32 (metres) or uint16 (raw / depth_scale "
                                   "= metres) array, got " + describe(depth));
}

ssr::Intrinsics borrow_intrinsics(const py::object& K) {
  return ssr::intrinsics_from_matrix(borrow_real_matrix(K, "K").view);
}

ssr::RigidPose borrow_pose(const py::object& T_wc) {
  return ssr::pose_from_matrix(borrow_real_matrix(T_wc, "T_wc").view);
}

py::array_t<float> points_to_numpy(std::vector<float>&& xyz) {
  const auto n = static_cast<py::ssize_t>(xyz.size() / 3);
  return to_numpy(std::move(xyz), {n, 3});
}

py::object pose_to_numpy(const ssr::RigidPose& pose) {
  auto m = ssr::pose_matrix(pose);
  return to_numpy(std::vector<double>(m.begin(), m.end()), {4, 4});
}

constexpr const char* kFrameDoc = R"(
depth: H×W float32 metres (0, negative, NaN, inf = invalid) or H×W uint16 raw units with
    metres = raw / depth_scale (0 = invalid). Any other dtype is an InvalidInputError.
K: 3×3 intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] in pixels, fx, fy > 0 (any real dtype,
    read as float64).
T_wc: 4×4 camera-to-world pose (OpenCV camera: x right, y down, z forward; world z up, metres),
    rigid: R orthonormal within 1e-4, det +1, last row 0 0 0 1.
depth_scale: raw units per metre for uint16 depth (1000 = millimetres); unused for float32.
Pixel (row v, column u) has its centre at (u, v). Raises InvalidInputError naming the field.)";

}  // namespace

void init_camera(py::module_& m) {
  py::class_<ssr::KeyframeSelector>(
      m, "KeyframeSelector",
      (std::string(R"(Chooses the keyframes of a posed depth stream (one selector per stream).

The first frame is a keyframe. A later frame is one when, since the last keyframe, the camera
moved more than min_translation metres, or turned more than min_rotation_deg degrees, or the
view overlap fell below min_overlap. View overlap: of the frame's valid pixels on a grid of every
sample_step-th pixel, the fraction whose world point projects inside the last keyframe's image
(-0.5 <= u < W - 0.5, same for v) at positive depth; occlusion is not modelled. A frame without
valid samples has overlap NaN and is judged on the pose alone.
)") + kFrameDoc)
          .c_str())
      .def(py::init([](double min_translation, double min_rotation_deg, double min_overlap,
                       int sample_step) {
             return ssr::KeyframeSelector(
                 ssr::KeyframeParams{min_translation, min_rotation_deg, min_overlap, sample_step});
           }),
           py::arg("min_translation") = 0.3, py::arg("min_rotation_deg") = 15.0,
           py::arg("min_overlap") = 0.7, py::arg("sample_step") = 8)
      .def(
          "consider",
          [](ssr::KeyframeSelector& self, const py::object& depth, const py::object& K,
             const py::object& T_wc, double depth_scale) {
            DepthArg d = borrow_depth(depth, depth_scale);
            ssr::Intrinsics intrinsics = borrow_intrinsics(K);
            ssr::RigidPose pose = borrow_pose(T_wc);
            py::gil_scoped_release release;
            return self.consider(d.image, intrinsics, pose);
          },
          py::arg("depth"), py::arg("K"), py::arg("T_wc"),
          py::arg("depth_scale") = kDefaultDepthScale,
          "Judge the next frame; True when it becomes the new keyframe.")
      .def("reset", &ssr::KeyframeSelector::reset,
           "Forget the keyframe and counters; the next frame is a keyframe again.")
      .def_property_readonly(
          "last_keyframe_pose",
          [](const ssr::KeyframeSelector& self) -> py::object {
            if (!self.has_keyframe()) return py::none();
            return pose_to_numpy(self.last_keyframe_pose());
          },
          "4×4 float64 T_wc of the last keyframe, or None before the first.")
      .def_property_readonly("last_overlap", &ssr::KeyframeSelector::last_overlap,
                             "View overlap in [0, 1] computed by the last consider(); NaN for "
                             "the first frame, for a frame without valid depth samples, and "
                             "before any call.")
      .def_property_readonly("has_keyframe", &ssr::KeyframeSelector::has_keyframe)
      .def_property_readonly("frames_seen", &ssr::KeyframeSelector::frames_seen,
                             "Frames considered since construction or reset().")
      .def_property_readonly("keyframes_taken", &ssr::KeyframeSelector::keyframes_taken,
                             "Keyframes chosen since construction or reset().")
      .def_property_readonly(
          "min_translation",
          [](const ssr::KeyframeSelector& s) { return s.params().min_translation; }, "metres")
      .def_property_readonly(
          "min_rotation_deg",
          [](const ssr::KeyframeSelector& s) { return s.params().min_rotation_deg; }, "degrees")
      .def_property_readonly("min_overlap",
                             [](const ssr::KeyframeSelector& s) { return s.params().min_overlap; })
      .def_property_readonly("sample_step",
                             [](const ssr::KeyframeSelector& s) { return s.params().sample_step; },
                             "pixels between overlap samples, in u and v");

  m.attr("PATCH_FEATURES") = ssr::kPatchFeatures;

  m.def(
      "validate_frame",
      [](const py::object& rgb, const py::object& depth, const py::object& K,
         const py::object& T_wc, double depth_scale) {
        auto color = borrow_exact<std::uint8_t>(rgb, "rgb", "an H×W×3 uint8 array");
        DepthArg d = borrow_depth(depth, depth_scale);
        ssr::validate_frame(color.view, d.image, borrow_real_matrix(K, "K").view,
                            borrow_real_matrix(T_wc, "T_wc").view);
      },
      py::arg("rgb"), py::arg("depth"), py::arg("K"), py::arg("T_wc"),
      py::arg("depth_scale") = kDefaultDepthScale,
      (std::string("Check a posed RGB-D frame; returns None or raises InvalidInputError naming "
                   "the field and the shape/dtype/value it got.\n\nrgb: H×W×3 uint8, same H×W "
                   "as depth.") +
       kFrameDoc)
          .c_str());

  m.def(
      "backproject",
      [](const py::object& depth, const py::object& K, const py::object& T_wc, int stride,
         double depth_scale) {
        DepthArg d = borrow_depth(depth, depth_scale);
        ssr::Intrinsics intrinsics = borrow_intrinsics(K);
        ssr::RigidPose pose = borrow_pose(T_wc);
        std::vector<float> xyz;
        {
          py::gil_scoped_release release;
          xyz = ssr::backproject(d.image, intrinsics, pose, stride);
        }
        return points_to_numpy(std::move(xyz));
      },
      py::arg("depth"), py::arg("K"), py::arg("T_wc"), py::arg("stride") = 1,
      py::arg("depth_scale") = kDefaultDepthScale,
      (std::string("N×3 float32 world points (metres) of the valid pixels with v % stride == 0 "
                   "and u % stride == 0, in row-major pixel order; invalid depth is skipped.\n") +
       kFrameDoc)
          .c_str());

  m.def(
      "backproject_instances",
      [](const py::object& depth, const py::object& instance_mask, const py::object& K,
         const py::object& T_wc, int stride, double depth_scale) {
        DepthArg d = borrow_depth(depth, depth_scale);
        auto mask = borrow_exact<std::uint16_t>(instance_mask, "instance_mask",
                                                "an H×W uint16 array");
        ssr::Intrinsics intrinsics = borrow_intrinsics(K);
        ssr::RigidPose pose = borrow_pose(T_wc);
        std::map<int, std::vector<float>> per_instance;
        {
          py::gil_scoped_release release;
          per_instance = ssr::backproject_instances(d.image, mask.view, intrinsics, pose, stride);
        }
        py::dict out;
        for (auto& [id, xyz] : per_instance) out[py::int_(id)] = points_to_numpy(std::move(xyz));
        return out;
      },
      py::arg("depth"), py::arg("instance_mask"), py::arg("K"), py::arg("T_wc"),
      py::arg("stride") = 1, py::arg("depth_scale") = kDefaultDepthScale,
      (std::string("backproject() split by instance in one pass: {instance_id: N×3 float32 world "
                   "points}, pixel order kept, instance 0 (background) and instances without a "
                   "valid pixel left out.\ninstance_mask: H×W uint16, same H×W as depth.\n") +
       kFrameDoc)
          .c_str());

  m.def(
      "pool_patches",
      [](const py::object& depth, const py::object& K, const py::object& T_wc, int grid,
         double depth_scale) {
        DepthArg d = borrow_depth(depth, depth_scale);
        ssr::Intrinsics intrinsics = borrow_intrinsics(K);
        ssr::RigidPose pose = borrow_pose(T_wc);
        std::vector<float> features;
        {
          py::gil_scoped_release release;
          features = ssr::pool_patches(d.image, intrinsics, pose, grid);
        }
        const auto g = static_cast<py::ssize_t>(grid);
        return to_numpy(std::move(features), {g, g, ssr::kPatchFeatures});
      },
      py::arg("depth"), py::arg("K"), py::arg("T_wc"), py::arg("grid") = 16,
      py::arg("depth_scale") = kDefaultDepthScale,
      (std::string(R"(Per-patch 3D features: grid×grid×7 float32.

Patch (r, c) covers rows floor(r*H/grid) .. floor((r+1)*H/grid) - 1 and the same for columns
(1 <= grid <= min(H, W)). Over its valid pixels back-projected to the world frame:
[0:3] mean world x, y, z (m); [3] valid fraction = valid / all pixels of the patch;
[4:7] extent = max - min of the world x, y, z (m). A patch with no valid pixel is all zeros.
Sums in float64, rounded to float32 at the end.
)") + kFrameDoc)
          .c_str());
}
