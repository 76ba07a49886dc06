// Posed RGB-D frames: validation, back-projection to world points, per-patch 3D features for the
// model's 3D branch, and keyframe selection.
//
// Conventions
//   Camera frame: OpenCV (x right, y down, z forward), metres. World frame: right-handed, z up.
//   Pixel (row v, column u) has its centre at image coordinates (u, v), the OpenCV convention, and
//   its depth z back-projects to the camera point ((u - cx) z / fx, (v - cy) z / fy, z).
//   T_wc is the 4×4 camera-to-world transform: p_world = R p_cam + t.
//   Depth: float32 metres, where 0, negative, NaN and ±inf are invalid; or uint16 raw units with
//   metres = raw / depth_scale, where 0 is invalid (the usual sensor format, depth_scale = 1000 for
//   millimetres). Invalid pixels are skipped everywhere, never turned into points.
//
// Thread-safety: the free functions are pure and may run concurrently on shared inputs. A
// KeyframeSelector is a plain value with no internal locking; use one per stream.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "array_view.h"

namespace ssr {

// Pinhole intrinsics in pixels, taken from a 3×3 K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]].
struct Intrinsics {
  double fx = 1, fy = 1, cx = 0, cy = 0;
};

// Rigid camera-to-world transform: p_world = R p_cam + t, R row-major and a proper rotation.
struct RigidPose {
  std::array<double, 9> R{1, 0, 0, 0, 1, 0, 0, 0, 1};
  std::array<double, 3> t{0, 0, 0};
};

// A borrowed depth image, validated (H, W >= 1). Exactly one of `metres` / `raw` is set.
struct DepthImage {
  const float* metres = nullptr;       // float32 H×W, metres
  const std::uint16_t* raw = nullptr;  // uint16 H×W, metres = raw / scale
  double scale = 1000.0;               // raw units per metre (uint16 only)
  int height = 0;
  int width = 0;
};

// Tolerance of the rigidity test on T_wc: max |R^T R - I| over the entries.
constexpr double kRotationTolerance = 1e-4;

// Each check throws InvalidInput naming its field ("rgb", "depth", "K", "T_wc", "depth_scale")
// and the shape or value it got.
void check_rgb(const ArrayView<std::uint8_t>& rgb);  // H×W×3, H, W >= 1
DepthImage depth_from_metres(const ArrayView<float>& depth);
DepthImage depth_from_raw(const ArrayView<std::uint16_t>& depth, double depth_scale);
// K: 3×3, finite, fx, fy > 0, K[0,1] = K[1,0] = K[2,0] = K[2,1] = 0, K[2,2] = 1 (exactly).
Intrinsics intrinsics_from_matrix(const ArrayView<double>& K);
// T_wc: 4×4, finite, last row exactly 0 0 0 1, R orthonormal within kRotationTolerance, det R > 0.
RigidPose pose_from_matrix(const ArrayView<double>& T_wc);
std::array<double, 16> pose_matrix(const RigidPose& pose);  // row-major 4×4

// The whole frame: each part as above, and rgb and depth of the same H×W.
void validate_frame(const ArrayView<std::uint8_t>& rgb, const DepthImage& depth,
                    const ArrayView<double>& K, const ArrayView<double>& T_wc);

// World points of the valid pixels on the grid v % stride == 0, u % stride == 0, in row-major
// pixel order, flattened N×3 (x, y, z). stride >= 1.
std::vector<float> backproject(const DepthImage& depth, const Intrinsics& K, const RigidPose& T_wc,
                               int stride = 1);

// backproject() split by instance in one pass: instance id -> flattened N×3 world points, pixel
// order kept within each instance. Instance 0 (background) is left out. The mask is uint16 H×W,
// the same size as depth (field "instance_mask").
std::map<int, std::vector<float>> backproject_instances(
    const DepthImage& depth, const ArrayView<std::uint16_t>& instance_mask, const Intrinsics& K,
    const RigidPose& T_wc, int stride = 1);

// Per-patch 3D features: the image is cut into grid×grid patches, patch (r, c) covering rows
// floor(r H / grid) .. floor((r + 1) H / grid) - 1 and columns floor(c W / grid) ..
// floor((c + 1) W / grid) - 1 (so H, W need not be multiples of grid; 1 <= grid <= min(H, W), so
// no patch is empty). Over the valid pixels of the patch, back-projected to the world frame:
//   [0:3] mean world x, y, z (metres)
//   [3]   valid fraction = valid pixels / all pixels of the patch, in [0, 1]
//   [4:7] extent per world axis = max - min of x, y, z (metres; 0 for a single valid pixel)
// A patch with no valid pixel is all zeros. Accumulation is in float64, output rounded to float32.
// Returns grid×grid×kPatchFeatures floats, row-major (patch row, patch column, feature).
constexpr int kPatchFeatures = 7;
std::vector<float> pool_patches(const DepthImage& depth, const Intrinsics& K,
                                const RigidPose& T_wc, int grid);

// Decides which frames of a stream are keyframes (the ones the encoder runs on).
struct KeyframeParams {
  double min_translation = 0.3;    // metres moved since the last keyframe that triggers a new one
  double min_rotation_deg = 15.0;  // rotation angle since the last keyframe that triggers one
  double min_overlap = 0.7;        // view overlap below which a new keyframe is taken
  int sample_step = 8;             // overlap samples every sample_step-th pixel in u and v
};

// The first frame is a keyframe. A later frame is one when, relative to the last keyframe, the
// camera moved more than min_translation, or turned by more than min_rotation_deg (angle of
// R_key^T R), or the view overlap fell below min_overlap.
// View overlap: of the current frame's valid pixels on the sample grid (backproject with stride =
// sample_step), the fraction whose world point lands, in the last keyframe's camera, at positive
// depth and inside its image: -0.5 <= u < W - 0.5 and -0.5 <= v < H - 0.5 (pixel areas, centres at
// integers). Occlusion is not modelled. A frame with no valid sample has overlap NaN and is judged
// on the pose alone, so dropped-out depth does not flood the stream with keyframes.
class KeyframeSelector {
 public:
  explicit KeyframeSelector(const KeyframeParams& params = {});  // InvalidInput on bad params

  // Judges the next frame; a keyframe becomes the reference for the frames after it.
  bool consider(const DepthImage& depth, const Intrinsics& K, const RigidPose& T_wc);
  // Forgets the keyframe and the counters; the next frame is a keyframe again.
  void reset();

  const KeyframeParams& params() const { return params_; }
  bool has_keyframe() const { return has_keyframe_; }
  const RigidPose& last_keyframe_pose() const { return key_pose_; }  // identity before any
  // Overlap computed by the last consider() call; NaN for the first frame and before any call.
  double last_overlap() const { return last_overlap_; }
  int frames_seen() const { return frames_seen_; }
  int keyframes_taken() const { return keyframes_taken_; }

 private:
  double view_overlap(const DepthImage& depth, const Intrinsics& K, const RigidPose& T_wc) const;

  KeyframeParams params_;
  bool has_keyframe_ = false;
  RigidPose key_pose_;
  Intrinsics key_K_;
  int key_height_ = 0;
  int key_width_ = 0;
  double last_overlap_;
  int frames_seen_ = 0;
  int keyframes_taken_ = 0;
};

}  // namespace ssr
