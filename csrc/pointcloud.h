// Point clouds in the world frame (z up, metres): voxel downsampling and gravity-aligned 7-DoF box
// fitting, the step that turns an object's back-projected pixels into a box.
// Points arrive as a borrowed C-contiguous N×3 float32 array (field "points"); every point must be
// finite (back-projection never produces NaN, so a NaN here is a caller bug worth reporting).
#pragma once

#include <vector>

#include "array_view.h"
#include "geometry.h"

namespace ssr {

// One centroid per occupied voxel of edge voxel_size (metres), the voxel of p being
// floor(p / voxel_size) per axis. Centroids are averaged in float64 and listed in the order in
// which their voxels are first hit by the input, so the output is deterministic for a given input
// order. Returns M×3 flattened; an empty input gives an empty output.
std::vector<float> voxel_downsample(const ArrayView<float>& points, double voxel_size);

// Gravity-aligned box around the points:
//   footprint: the minimum-area rectangle enclosing the convex hull of the points' (x, y)
//              (Andrew's monotone chain + rotating calipers; one side is collinear with a hull
//              edge); ties keep the first hull edge found;
//   height:    z from the min to the max of the points;
//   size:      l = the longer footprint side, w = the shorter, h = the z span;
//   yaw:       direction of the l side, wrapped to (-pi/2, pi/2] (a box is symmetric under a half
//              turn, so this is unique but for squares, where l == w and the first edge wins).
// trim in [0, 0.5): before fitting, drop the floor(trim * N) points farthest (Euclidean, 3D) from
// the per-axis median, so stray pixels at depth edges do not inflate the box.
// Throws InvalidInput for: fewer than 3 points (after trimming), all points collinear in (x, y)
// (zero footprint area), all points at one z (zero height), a bad shape, non-finite points, or
// trim outside [0, 0.5).
Box3D fit_box(const ArrayView<float>& points, double trim = 0.0);

}  // namespace ssr
