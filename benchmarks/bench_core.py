"""Per-frame geometry cost: C++ core vs plain vectorized numpy, one thread, 640×480 frames.

Measures, side by side in one run, back-projection of a depth frame to world points plus per-patch
pooling (grid P, default 16) in the C++ core (ssr_runtime._core) and in numpy, then breaks the C++
time down (validation alone, back-projection alone, pooling alone).

The numpy reference is given its best shot: pixel rays and the pixel-to-patch grouping depend only
on K and the image size, so they are computed once, outside the timed loop (the C++ path rebuilds
its ray table on every call). Both produce the same features; the script checks that.

Usage (from the checkout after scripts/dev-build.sh, or anywhere with ssr-runtime installed):
    PYTHONPATH=. python3 benchmarks/bench_core.py [--reps 50] [--grid 16]
"""

import os

# One thread for numpy's BLAS / OpenMP pools, set before numpy loads them. The C++ core is
# single-threaded by construction.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ssr_runtime import _core  # noqa: E402

HEIGHT, WIDTH = 480, 640


def make_frame(seed=0):
    """A smooth synthetic room-ish depth (metres) with 10 % holes (NaN, 0, inf), rgb, K, T_wc."""
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:HEIGHT, 0:WIDTH]
    depth = (2.5 + 1.5 * np.sin(u / 90.0) * np.cos(v / 70.0) + rng.normal(0, 0.01, (HEIGHT, WIDTH)))
    depth = depth.astype(np.float32)
    holes = rng.random((HEIGHT, WIDTH))
    depth[holes < 0.04] = np.nan
    depth[(holes >= 0.04) & (holes < 0.08)] = 0.0
    depth[(holes >= 0.08) & (holes < 0.10)] = np.inf
    K = np.array([[525.0, 0.0, 319.5], [0.0, 525.0, 239.5], [0.0, 0.0, 1.0]])
    angle = 0.3
    c, s = np.cos(angle), np.sin(angle)
    R_yaw = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    R_cam = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # camera looks along +y, z up
    T_wc = np.eye(4)
    T_wc[:3, :3] = R_yaw @ R_cam
    T_wc[:3, 3] = [1.0, -2.0, 1.4]
    rgb = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    return rgb, depth, K, T_wc


class NumpyGeometry:
    """Back-projection + per-patch pooling in plain vectorized numpy (float64 math)."""

    def __init__(self, K, height, width, grid):
        v, u = np.mgrid[0:height, 0:width].astype(np.float64)
        x, y = (u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]
        self.rays = np.stack([x, y, np.ones_like(u)], -1).reshape(-1, 3)
        row_patch = (np.arange(grid + 1) * height) // grid
        col_patch = (np.arange(grid + 1) * width) // grid
        patch_r = np.searchsorted(row_patch, np.arange(height), side="right") - 1
        patch_c = np.searchsorted(col_patch, np.arange(width), side="right") - 1
        patch = (patch_r[:, None] * grid + patch_c[None, :]).ravel()
        self.order = np.argsort(patch, kind="stable")  # pixels grouped by patch
        sizes = np.bincount(patch, minlength=grid * grid)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.sizes = sizes
        self.grid = grid

    def world(self, depth, T_wc):
        d = depth.reshape(-1).astype(np.float64)
        valid = np.isfinite(d) & (d > 0)
        z = np.where(valid, d, 0.0)
        cam = self.rays * z[:, None]
        return cam @ T_wc[:3, :3].T + T_wc[:3, 3], valid

    def backproject(self, depth, T_wc):
        world, valid = self.world(depth, T_wc)
        return world[valid].astype(np.float32)

    def backproject_and_pool(self, depth, T_wc):
        """Both outputs from one shared back-projection of the frame."""
        world, valid = self.world(depth, T_wc)
        points = world[valid].astype(np.float32)

        grouped = world[self.order]
        grouped_valid = valid[self.order]
        counts = np.add.reduceat(grouped_valid.astype(np.int64), self.starts)
        sums = np.add.reduceat(np.where(grouped_valid[:, None], grouped, 0.0), self.starts, axis=0)
        mask = grouped_valid[:, None]
        lo = np.minimum.reduceat(np.where(mask, grouped, np.inf), self.starts, axis=0)
        hi = np.maximum.reduceat(np.where(mask, grouped, -np.inf), self.starts, axis=0)
        features = np.zeros((self.grid * self.grid, 7))
        has = counts > 0
        features[has, :3] = sums[has] / counts[has, None]
        features[has, 3] = counts[has] / self.sizes[has]
        features[has, 4:] = hi[has] - lo[has]
        return points, features.reshape(self.grid, self.grid, 7).astype(np.float32)


def time_ms(fns, reps, warmup=5):
    """(median, p95) milliseconds per function. The functions take turns within each repetition,
    so load from other processes on the machine hits all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples = np.zeros((reps, len(fns)))
    for rep in range(reps):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            samples[rep, i] = (time.perf_counter() - start) * 1e3
    return [(float(np.median(s)), float(np.percentile(s, 95))) for s in samples.T]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--grid", type=int, default=16)
    args = parser.parse_args()

    rgb, depth, K, T_wc = make_frame()
    raw = np.where(np.isfinite(depth) & (depth > 0), np.round(depth * 1000), 0).astype(np.uint16)
    grid = args.grid
    reference = NumpyGeometry(K, HEIGHT, WIDTH, grid)

    # Same answer first, then timing.
    np_points, np_features = reference.backproject_and_pool(depth, T_wc)
    cpp_points = _core.backproject(depth, K, T_wc)
    cpp_features = _core.pool_patches(depth, K, T_wc, grid=grid)
    points_diff = float(np.abs(np_points - cpp_points).max())
    features_diff = float(np.abs(np_features - cpp_features).max())

    def cpp_path():
        _core.backproject(depth, K, T_wc)
        _core.pool_patches(depth, K, T_wc, grid=grid)

    def cpp_path_uint16():
        _core.backproject(raw, K, T_wc, depth_scale=1000.0)
        _core.pool_patches(raw, K, T_wc, grid=grid, depth_scale=1000.0)

    # (name, function, row index of the numpy baseline it is compared with, or None)
    rows = [
        ("numpy: back-project + pool", lambda: reference.backproject_and_pool(depth, T_wc), None),
        ("numpy: back-project alone", lambda: reference.backproject(depth, T_wc), None),
        ("C++: back-project + pool", cpp_path, 0),
        ("C++: back-project + pool (uint16 mm)", cpp_path_uint16, 0),
        ("C++: validate_frame alone", lambda: _core.validate_frame(rgb, depth, K, T_wc), None),
        ("C++: backproject alone", lambda: _core.backproject(depth, K, T_wc), 1),
        (f"C++: pool_patches alone (P={grid})", lambda: _core.pool_patches(depth, K, T_wc, grid),
         None),
    ]
    timings = time_ms([fn for _, fn, _ in rows], args.reps)
    results = [(name, *timing, baseline) for (name, _, baseline), timing in zip(rows, timings)]

    valid = int(np.count_nonzero(np.isfinite(depth) & (depth > 0)))
    cpu = platform.processor() or platform.machine()
    print(f"frame {WIDTH}×{HEIGHT}, {valid} valid pixels ({valid / depth.size:.0%}), "
          f"grid {grid}×{grid}, {args.reps} reps, one thread; numpy {np.__version__}, {cpu}")
    print(f"agreement: max |points diff| = {points_diff:.2e} m, "
          f"max |features diff| = {features_diff:.2e}")
    print()
    width = max(len(r[0]) for r in results)
    print(f" #  {'path':<{width}}  {'median ms':>9}  {'p95 ms':>8}  {'speedup (median)':>18}")
    print(f"--  {'-' * width}  {'-' * 9}  {'-' * 8}  {'-' * 18}")
    for row, (name, median, p95, baseline) in enumerate(results, start=1):
        speedup = ""
        if baseline is not None:
            speedup = f"{results[baseline][1] / median:.1f}× vs #{baseline + 1}"
        print(f"{row:2d}  {name:<{width}}  {median:9.3f}  {p95:8.3f}  {speedup:>18}")


if __name__ == "__main__":
    main()
