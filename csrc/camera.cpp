#include "camera.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "errors.h"
#include "geometry.h"

namespace ssr {

namespace {

bool all_finite(const double* values, int n) {
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) return false;
  }
  return true;
}

// H×W image of any element type: checks rank 2 and non-empty, returns (H, W).
std::array<int, 2> image_size(const std::vector<std::int64_t>& shape, const std::string& field) {
  if (shape.size() != 2) {
    throw InvalidInput(field, "expected an H×W array, got shape " + shape_string(shape));
  }
  if (shape[0] < 1 || shape[1] < 1) {
    throw InvalidInput(field, "empty image, got shape " + shape_string(shape));
  }
  if (shape[0] > std::numeric_limits<int>::max() || shape[1] > std::numeric_limits<int>::max()) {
    throw InvalidInput(field, "image too large, got shape " + shape_string(shape));
  }
  return {static_cast<int>(shape[0]), static_cast<int>(shape[1])};
}

void check_matrix_shape(const ArrayView<double>& m, std::int64_t n, const std::string& field) {
  if (m.shape.size() != 2 || m.shape[0] != n || m.shape[1] != n) {
    throw InvalidInput(field, "expected a " + std::to_string(n) + "×" + std::to_string(n) +
                                  " array, got shape " + shape_string(m.shape));
  }
  if (!all_finite(m.data, static_cast<int>(n * n))) {
    throw InvalidInput(field, "has a NaN or infinite entry");
  }
}

void check_stride(int stride) {
  if (stride < 1) throw InvalidInput("stride", "must be >= 1, got " + std::to_string(stride));
}

// Reads depth in metres; anything not in (0, inf) is invalid. Specialised per storage type so the
// pixel loops compile without a branch on the format.
struct MetresReader {
  const float* data;
  double operator()(size_t i) const { return data[i]; }
};

struct RawReader {
  const std::uint16_t* data;
  double inv_scale;
  double operator()(size_t i) const { return data[i] * inv_scale; }
};

// Bitwise & rather than &&: no short-circuit branch (see ValidSpan).
inline bool valid_depth(double z) { return (z > 0) & (z <= std::numeric_limits<double>::max()); }

// The valid pixels among columns u0, u0 + step, .. < u1 of one row, packed: depth and column.
// Every pixel is stored and the count advances only for valid ones, so holes in the depth (random,
// hence unpredictable) cost no mispredicted branches; the loops over the packed pixels have none.
struct ValidSpan {
  std::vector<double> z;
  std::vector<int> u;
  int n = 0;

  explicit ValidSpan(int width) : z(static_cast<size_t>(width)), u(static_cast<size_t>(width)) {}

  template <typename Reader>
  void gather(const Reader& read, size_t row_start, int u0, int u1, int step) {
    n = 0;
    for (int col = u0; col < u1; col += step) {
      const double depth = read(row_start + col);
      z[n] = depth;
      u[n] = col;
      n += valid_depth(depth);
    }
  }
};

// Ray directions in the world frame, split so that a pixel's world point is
// z * (row_dir[v] + col_dir[u]) + t: row_dir[v] = R (0, (v - cy) / fy, 1), col_dir[u] =
// R ((u - cx) / fx, 0, 0).
struct RayTable {
  std::vector<double> row_dir;  // 3 per row
  std::vector<double> col_dir;  // 3 per column

  RayTable(int height, int width, const Intrinsics& K, const RigidPose& T) {
    const auto& R = T.R;
    row_dir.resize(3 * static_cast<size_t>(height));
    col_dir.resize(3 * static_cast<size_t>(width));
    for (int v = 0; v < height; ++v) {
      double y = (v - K.cy) / K.fy;
      for (int k = 0; k < 3; ++k) {
        row_dir[3 * static_cast<size_t>(v) + k] = R[3 * k + 1] * y + R[3 * k + 2];
      }
    }
    for (int u = 0; u < width; ++u) {
      double x = (u - K.cx) / K.fx;
      for (int k = 0; k < 3; ++k) col_dir[3 * static_cast<size_t>(u) + k] = R[3 * k] * x;
    }
  }
};

// Calls visit(v, u, x, y, z) with the world point of every valid pixel on the stride grid, in
// row-major order.
template <typename Reader, typename Visit>
void for_each_point(const Reader& read, int height, int width, const Intrinsics& K,
                    const RigidPose& T, int stride, Visit&& visit) {
  RayTable rays(height, width, K, T);
  ValidSpan span(width);
  const double tx = T.t[0], ty = T.t[1], tz = T.t[2];
  for (int v = 0; v < height; v += stride) {
    const double* r = &rays.row_dir[3 * static_cast<size_t>(v)];
    span.gather(read, static_cast<size_t>(v) * width, 0, width, stride);
    for (int i = 0; i < span.n; ++i) {
      const double z = span.z[i];
      const double* c = &rays.col_dir[3 * static_cast<size_t>(span.u[i])];
      visit(v, span.u[i], z * (r[0] + c[0]) + tx, z * (r[1] + c[1]) + ty, z * (r[2] + c[2]) + tz);
    }
  }
}

// Calls fn(reader) with the reader for the depth's storage type.
template <typename Fn>
auto with_reader(const DepthImage& depth, Fn&& fn) {
  if (depth.metres != nullptr) return fn(MetresReader{depth.metres});
  return fn(RawReader{depth.raw, 1.0 / depth.scale});
}

template <typename Visit>
void for_each_point(const DepthImage& depth, const Intrinsics& K, const RigidPose& T, int stride,
                    Visit&& visit) {
  with_reader(depth, [&](const auto& read) {
    for_each_point(read, depth.height, depth.width, K, T, stride, visit);
  });
}

// Valid pixels on the stride grid.
size_t count_valid(const DepthImage& depth, int stride) {
  return with_reader(depth, [&](const auto& read) {
    size_t count = 0;
    for (int v = 0; v < depth.height; v += stride) {
      const size_t row_start = static_cast<size_t>(v) * depth.width;
      for (int u = 0; u < depth.width; u += stride) count += valid_depth(read(row_start + u));
    }
    return count;
  });
}

// Running sums of one patch.
struct PatchAccumulator {
  double sum[3] = {0, 0, 0};
  double lo[3] = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                  std::numeric_limits<double>::infinity()};
  double hi[3] = {-std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity(),
                  -std::numeric_limits<double>::infinity()};
  std::int64_t count = 0;

  void add(const double p[3]) {
    for (int k = 0; k < 3; ++k) {
      sum[k] += p[k];
      lo[k] = std::min(lo[k], p[k]);
      hi[k] = std::max(hi[k], p[k]);
    }
    ++count;
  }

  void write(float* out, std::int64_t pixels) const {
    if (count == 0) {
      std::fill(out, out + kPatchFeatures, 0.0f);
      return;
    }
    for (int k = 0; k < 3; ++k) out[k] = static_cast<float>(sum[k] / count);
    out[3] = static_cast<float>(static_cast<double>(count) / pixels);
    for (int k = 0; k < 3; ++k) out[4 + k] = static_cast<float>(hi[k] - lo[k]);
  }
};

// First row (or column) of patch i of `grid` over `size` pixels: floor(i * size / grid).
int patch_start(int i, int size, int grid) {
  return static_cast<int>(static_cast<std::int64_t>(i) * size / grid);
}

template <typename Reader>
std::vector<float> pool_with(const Reader& read, int height, int width, const Intrinsics& K,
                             const RigidPose& T, int grid) {
  RayTable rays(height, width, K, T);
  std::vector<PatchAccumulator> patches(static_cast<size_t>(grid) * grid);
  ValidSpan span(width);
  for (int pr = 0; pr < grid; ++pr) {
    PatchAccumulator* patch_row = &patches[static_cast<size_t>(pr) * grid];
    for (int v = patch_start(pr, height, grid); v < patch_start(pr + 1, height, grid); ++v) {
      const double* r = &rays.row_dir[3 * static_cast<size_t>(v)];
      const size_t row_start = static_cast<size_t>(v) * width;
      for (int pc = 0; pc < grid; ++pc) {
        span.gather(read, row_start, patch_start(pc, width, grid),
                    patch_start(pc + 1, width, grid), 1);
        PatchAccumulator acc = patch_row[pc];  // a local copy stays in registers
        for (int i = 0; i < span.n; ++i) {
          const double z = span.z[i];
          const double* c = &rays.col_dir[3 * static_cast<size_t>(span.u[i])];
          const double p[3] = {z * (r[0] + c[0]) + T.t[0], z * (r[1] + c[1]) + T.t[1],
                               z * (r[2] + c[2]) + T.t[2]};
          acc.add(p);
        }
        patch_row[pc] = acc;
      }
    }
  }
  std::vector<float> out(patches.size() * kPatchFeatures);
  for (int pr = 0; pr < grid; ++pr) {
    std::int64_t rows = patch_start(pr + 1, height, grid) - patch_start(pr, height, grid);
    for (int pc = 0; pc < grid; ++pc) {
      std::int64_t cols = patch_start(pc + 1, width, grid) - patch_start(pc, width, grid);
      size_t index = static_cast<size_t>(pr) * grid + pc;
      patches[index].write(&out[index * kPatchFeatures], rows * cols);
    }
  }
  return out;
}

// Rotation angle of R_a^T R_b, degrees in [0, 180].
double rotation_angle_deg(const std::array<double, 9>& Ra, const std::array<double, 9>& Rb) {
  double trace = 0;
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) trace += Ra[3 * k + i] * Rb[3 * k + i];
  }
  return std::acos(std::clamp((trace - 1) / 2, -1.0, 1.0)) * 180.0 / kPi;
}

// Pose of camera `b` expressed in the frame of camera `a`: a^-1 b.
RigidPose relative_pose(const RigidPose& a, const RigidPose& b) {
  RigidPose out;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += a.R[3 * k + i] * b.R[3 * k + j];
      out.R[3 * i + j] = s;
    }
    double s = 0;
    for (int k = 0; k < 3; ++k) s += a.R[3 * k + i] * (b.t[k] - a.t[k]);
    out.t[i] = s;
  }
  return out;
}

}  // namespace

void check_rgb(const ArrayView<std::uint8_t>& rgb) {
  if (rgb.shape.size() != 3 || rgb.shape[2] != 3) {
    throw InvalidInput("rgb", "expected an H×W×3 array, got shape " + shape_string(rgb.shape));
  }
  if (rgb.shape[0] < 1 || rgb.shape[1] < 1) {
    throw InvalidInput("rgb", "empty image, got shape " + shape_string(rgb.shape));
  }
}

DepthImage depth_from_metres(const ArrayView<float>& depth) {
  auto [height, width] = image_size(depth.shape, "depth");
  DepthImage out;
  out.metres = depth.data;
  out.height = height;
  out.width = width;
  return out;
}

DepthImage depth_from_raw(const ArrayView<std::uint16_t>& depth, double depth_scale) {
  if (!(std::isfinite(depth_scale) && depth_scale > 0)) {
    throw InvalidInput("depth_scale", "must be finite and > 0 (raw units per metre), got " +
                                          describe_number(depth_scale));
  }
  auto [height, width] = image_size(depth.shape, "depth");
  DepthImage out;
  out.raw = depth.data;
  out.scale = depth_scale;
  out.height = height;
  out.width = width;
  return out;
}

Intrinsics intrinsics_from_matrix(const ArrayView<double>& K) {
  check_matrix_shape(K, 3, "K");
  const double* k = K.data;
  if (!(k[0] > 0 && k[4] > 0)) {
    throw InvalidInput("K", "fx and fy must be > 0, got fx=" + describe_number(k[0]) +
                                " fy=" + describe_number(k[4]));
  }
  if (k[1] != 0 || k[3] != 0 || k[6] != 0 || k[7] != 0 || k[8] != 1) {
    throw InvalidInput("K", "expected [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], got K[0,1]=" +
                                describe_number(k[1]) + " K[1,0]=" + describe_number(k[3]) + " K[2,:]=(" +
                                describe_number(k[6]) + ", " + describe_number(k[7]) + ", " + describe_number(k[8]) + ")");
  }
  return {k[0], k[4], k[2], k[5]};
}

RigidPose pose_from_matrix(const ArrayView<double>& T_wc) {
  check_matrix_shape(T_wc, 4, "T_wc");
  const double* m = T_wc.data;
  if (m[12] != 0 || m[13] != 0 || m[14] != 0 || m[15] != 1) {
    throw InvalidInput("T_wc", "last row must be (0, 0, 0, 1), got (" + describe_number(m[12]) + ", " +
                                   describe_number(m[13]) + ", " + describe_number(m[14]) + ", " + describe_number(m[15]) +
                                   ")");
  }
  RigidPose pose;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) pose.R[3 * i + j] = m[4 * i + j];
    pose.t[i] = m[4 * i + 3];
  }
  const auto& R = pose.R;
  double worst = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      double dot = R[i] * R[j] + R[3 + i] * R[3 + j] + R[6 + i] * R[6 + j];
      worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  }
  if (worst >= kRotationTolerance) {
    throw InvalidInput("T_wc",
                       "non-rigid pose: rotation block is not orthonormal (max |R^T R - I| = " +
                           describe_number(worst) + ")");
  }
  double det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) +
               R[2] * (R[3] * R[7] - R[4] * R[6]);
  if (det <= 0) {
    throw InvalidInput("T_wc", "non-rigid pose: rotation block is a reflection (det = " +
                                   describe_number(det) + ")");
  }
  return pose;
}

std::array<double, 16> pose_matrix(const RigidPose& pose) {
  std::array<double, 16> m{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m[4 * i + j] = pose.R[3 * i + j];
    m[4 * i + 3] = pose.t[i];
  }
  m[15] = 1;
  return m;
}

void validate_frame(const ArrayView<std::uint8_t>& rgb, const DepthImage& depth,
                    const ArrayView<double>& K, const ArrayView<double>& T_wc) {
  check_rgb(rgb);
  if (rgb.shape[0] != depth.height || rgb.shape[1] != depth.width) {
    throw InvalidInput("depth", "size " + std::to_string(depth.height) + "×" +
                                    std::to_string(depth.width) + " differs from rgb shape " +
                                    shape_string(rgb.shape));
  }
  intrinsics_from_matrix(K);
  pose_from_matrix(T_wc);
}

std::vector<float> backproject(const DepthImage& depth, const Intrinsics& K, const RigidPose& T_wc,
                               int stride) {
  check_stride(stride);
  // Counting first sizes the output exactly: no growth checks in the loop, no slack kept.
  std::vector<float> out(3 * count_valid(depth, stride));
  float* next = out.data();
  for_each_point(depth, K, T_wc, stride, [&next](int, int, double x, double y, double z) {
    next[0] = static_cast<float>(x);
    next[1] = static_cast<float>(y);
    next[2] = static_cast<float>(z);
    next += 3;
  });
  return out;
}

std::map<int, std::vector<float>> backproject_instances(
    const DepthImage& depth, const ArrayView<std::uint16_t>& instance_mask, const Intrinsics& K,
    const RigidPose& T_wc, int stride) {
  check_stride(stride);
  auto [height, width] = image_size(instance_mask.shape, "instance_mask");
  if (height != depth.height || width != depth.width) {
    throw InvalidInput("instance_mask", "shape " + shape_string(instance_mask.shape) +
                                            " differs from depth size " +
                                            std::to_string(depth.height) + "×" +
                                            std::to_string(depth.width));
  }
  std::map<int, std::vector<float>> out;
  // Consecutive pixels mostly share an instance: remember the last bucket to skip the map lookup.
  int last_id = -1;
  std::vector<float>* bucket = nullptr;
  const std::uint16_t* mask = instance_mask.data;
  for_each_point(depth, K, T_wc, stride, [&](int v, int u, double x, double y, double z) {
    int id = mask[static_cast<size_t>(v) * width + u];
    if (id == 0) return;
    if (id != last_id) {
      bucket = &out[id];
      last_id = id;
    }
    bucket->push_back(static_cast<float>(x));
    bucket->push_back(static_cast<float>(y));
    bucket->push_back(static_cast<float>(z));
  });
  return out;
}

std::vector<float> pool_patches(const DepthImage& depth, const Intrinsics& K,
                                const RigidPose& T_wc, int grid) {
  int limit = std::min(depth.height, depth.width);
  if (grid < 1 || grid > limit) {
    throw InvalidInput("grid", "must be in [1, min(H, W) = " + std::to_string(limit) + "], got " +
                                   std::to_string(grid));
  }
  return with_reader(depth, [&](const auto& read) {
    return pool_with(read, depth.height, depth.width, K, T_wc, grid);
  });
}

KeyframeSelector::KeyframeSelector(const KeyframeParams& params)
    : params_(params), last_overlap_(std::numeric_limits<double>::quiet_NaN()) {
  if (!(std::isfinite(params.min_translation) && params.min_translation >= 0)) {
    throw InvalidInput("min_translation", "must be finite and >= 0, got " +
                                              describe_number(params.min_translation));
  }
  if (!(params.min_rotation_deg >= 0 && params.min_rotation_deg <= 180)) {
    throw InvalidInput("min_rotation_deg", "must be in [0, 180], got " +
                                               describe_number(params.min_rotation_deg));
  }
  if (!(params.min_overlap >= 0 && params.min_overlap <= 1)) {
    throw InvalidInput("min_overlap", "must be in [0, 1], got " + describe_number(params.min_overlap));
  }
  if (params.sample_step < 1) {
    throw InvalidInput("sample_step", "must be >= 1, got " + std::to_string(params.sample_step));
  }
}

double KeyframeSelector::view_overlap(const DepthImage& depth, const Intrinsics& K,
                                      const RigidPose& T_wc) const {
  // Work in the keyframe's camera directly: p_key = T_key^-1 T_wc p_cam.
  RigidPose to_key = relative_pose(key_pose_, T_wc);
  const double u_max = key_width_ - 0.5, v_max = key_height_ - 0.5;
  std::int64_t samples = 0, inside = 0;
  for_each_point(depth, K, to_key, params_.sample_step,
                 [&](int, int, double x, double y, double z) {
                   ++samples;
                   if (z <= 0) return;
                   double u = key_K_.fx * x / z + key_K_.cx;
                   double v = key_K_.fy * y / z + key_K_.cy;
                   if (u >= -0.5 && u < u_max && v >= -0.5 && v < v_max) ++inside;
                 });
  if (samples == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(inside) / samples;
}

bool KeyframeSelector::consider(const DepthImage& depth, const Intrinsics& K,
                                const RigidPose& T_wc) {
  ++frames_seen_;
  bool keyframe = !has_keyframe_;
  if (has_keyframe_) {
    double dx = T_wc.t[0] - key_pose_.t[0], dy = T_wc.t[1] - key_pose_.t[1],
           dz = T_wc.t[2] - key_pose_.t[2];
    double moved = std::sqrt(dx * dx + dy * dy + dz * dz);
    double turned = rotation_angle_deg(key_pose_.R, T_wc.R);
    last_overlap_ = view_overlap(depth, K, T_wc);
    // NaN overlap (no valid sample) compares false: the pose alone decides.
    keyframe = moved > params_.min_translation || turned > params_.min_rotation_deg ||
               last_overlap_ < params_.min_overlap;
  } else {
    last_overlap_ = std::numeric_limits<double>::quiet_NaN();
  }
  if (keyframe) {
    has_keyframe_ = true;
    key_pose_ = T_wc;
    key_K_ = K;
    key_height_ = depth.height;
    key_width_ = depth.width;
    ++keyframes_taken_;
  }
  return keyframe;
}

void KeyframeSelector::reset() {
  has_keyframe_ = false;
  key_pose_ = RigidPose{};
  last_overlap_ = std::numeric_limits<double>::quiet_NaN();
  frames_seen_ = 0;
  keyframes_taken_ = 0;
}

}  // namespace ssr
