"""The fusion encoder's per-frame inputs (docs/MODEL.md), made the same way for training and at runtime.

Only numpy, Pillow and the C++ core: the runtime calls this on every keyframe, so no torch here.
Pixels stay uint8 (a quarter of the bytes of float32 on disk and in transfer); the model scales
them to [0, 1].
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ssr_runtime import _core

IMAGE_SIZE = 64  # pixels per side of the resized image
GRID = 8  # patches per side: one patch = IMAGE_SIZE / GRID = 8 pixels of the resized image
POSE_FEATURES = 12  # the top three rows of T_wc, row-major


@dataclass(frozen=True)
class FrameInputs:
    """One frame's encoder inputs.

    pixels: uint8 [3, IMAGE_SIZE, IMAGE_SIZE], RGB channels first, bilinear resize of the frame.
    geometry: float32 [GRID, GRID, 7], `_core.pool_patches(depth, K, T_wc, grid=GRID)`: mean world
        xyz (m), valid fraction, extent xyz (m) per patch.
    pose: float32 [12], T_wc[:3].ravel() (rotation rows with the translation, metres).
    """

    pixels: np.ndarray
    geometry: np.ndarray
    pose: np.ndarray


@dataclass(frozen=True)
class FrameBatch:
    """Frames stacked along a leading axis N: pixels uint8 [N, 3, 64, 64], geometry float32
    [N, 8, 8, 7], pose float32 [N, 12]."""

    pixels: np.ndarray
    geometry: np.ndarray
    pose: np.ndarray

    def __post_init__(self):
        n = len(self.pixels)
        expected = {"pixels": ((n, 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8),
                    "geometry": ((n, GRID, GRID, _core.PATCH_FEATURES), np.float32),
                    "pose": ((n, POSE_FEATURES), np.float32)}
        for name, (shape, dtype) in expected.items():
            array = getattr(self, name)
            if array.shape != shape or array.dtype != dtype:
                raise ValueError(f"{name}: expected {np.dtype(dtype).name} {list(shape)}, "
                                 f"got {array.dtype.name} {list(array.shape)}")

    def __len__(self) -> int:
        return len(self.pixels)

    def select(self, indices: Sequence[int]) -> FrameBatch:
        """The frames at `indices`, in that order (copies)."""
        index = np.asarray(indices, dtype=np.int64)
        return FrameBatch(self.pixels[index], self.geometry[index], self.pose[index])

    @classmethod
    def stack(cls, frames: Sequence[FrameInputs]) -> FrameBatch:
        """Stack frames; an empty sequence gives a batch of 0 frames."""
        if not frames:
            return cls(np.zeros((0, 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8),
                       np.zeros((0, GRID, GRID, _core.PATCH_FEATURES), np.float32),
                       np.zeros((0, POSE_FEATURES), np.float32))
        return cls(np.stack([f.pixels for f in frames]), np.stack([f.geometry for f in frames]),
                   np.stack([f.pose for f in frames]))

    def save(self, path: str | os.PathLike, **extra: np.ndarray) -> None:
        """Write an uncompressed .npz with arrays pixels, geometry, pose and any `extra` arrays."""
        np.savez(path, pixels=self.pixels, geometry=self.geometry, pose=self.pose, **extra)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FrameBatch:
        with np.load(path) as data:
            return cls(data["pixels"], data["geometry"], data["pose"])


def resize_pixels(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 → uint8 [3, IMAGE_SIZE, IMAGE_SIZE] (bilinear, channels first)."""
    resized = Image.fromarray(rgb).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)
    return np.ascontiguousarray(np.asarray(resized).transpose(2, 0, 1))


def frame_inputs(rgb: np.ndarray, depth: np.ndarray, K: np.ndarray, T_wc: np.ndarray) -> FrameInputs:
    """The encoder inputs of one posed RGB-D frame.

    rgb: H×W×3 uint8; depth: H×W float32 metres (0 = invalid) or uint16 millimetres; K: 3×3 pixels;
    T_wc: 4×4 camera-to-world. Raises `_core.InvalidInputError` naming the field for a bad frame
    (checked by `_core.validate_frame` before anything is computed).
    """
    _core.validate_frame(rgb, depth, K, T_wc)
    geometry = _core.pool_patches(depth, K, T_wc, grid=GRID)
    pose = np.asarray(T_wc, dtype=np.float64)[:3].ravel().astype(np.float32)
    return FrameInputs(resize_pixels(rgb), geometry, pose)
