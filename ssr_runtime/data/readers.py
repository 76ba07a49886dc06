"""Posed RGB-D frame readers: this project's scene folders, ScanNet exports and TUM RGB-D sequences,
all yielding the same `RGBDFrame`.

Frame conventions (docs/DATA.md): rgb uint8 (H, W, 3); depth float32 metres (H, W), 0 = invalid;
K float64 (3, 3) pinhole intrinsics of *this* image size; T_wc float64 (4, 4) camera-to-world,
OpenCV camera axes; t in seconds. A malformed or missing file raises FrameFormatError naming the
file and the line or field. Only numpy and Pillow are needed here (no open3d).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ssr_runtime.data.scene import Scene, SceneFormatError

# TUM RGB-D freiburg1 colour camera (https://cvg.cit.tum.de/data/datasets/rgbd-dataset/file_formats).
TUM_FR1_INTRINSICS = (517.3, 516.5, 318.6, 255.3)
TUM_DEPTH_SCALE = 5000.0  # TUM depth PNG value / 5000 = metres
SCANNET_DEPTH_SCALE = 1000.0
SCANNET_FPS = 30.0  # ScanNet frames are numbered at the sensor's 30 Hz

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")


class FrameFormatError(SceneFormatError):
    """A frame file (image, pose, intrinsics or list) is missing or malformed; the message names it."""


@dataclass
class RGBDFrame:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 metres, 0 = invalid
    K: np.ndarray  # (3, 3) float64, pixels
    T_wc: np.ndarray  # (4, 4) float64, camera-to-world
    t: float  # seconds
    instance: np.ndarray | None = None  # (H, W) uint16 instance ids, 0 = none; synthetic scenes only
    name: str = ""  # the frame's colour file, for messages


# --- files -----------------------------------------------------------------------------------

def _open_image(path: Path) -> Image.Image:
    if not path.is_file():
        raise FrameFormatError(f"{path}: file not found")
    try:
        image = Image.open(path)
        image.load()
    except (OSError, ValueError) as e:
        raise FrameFormatError(f"{path}: not a readable image ({e})") from None
    return image


def read_color(path: str | os.PathLike) -> np.ndarray:
    """An 8-bit colour (or grey) image as (H, W, 3) uint8."""
    path = Path(path)
    image = _open_image(path)
    if image.mode not in ("RGB", "RGBA", "L", "P"):
        raise FrameFormatError(f"{path}: expected an 8-bit colour image, got mode {image.mode!r}")
    return np.asarray(image.convert("RGB"))


def read_uint16_png(path: str | os.PathLike, what: str) -> np.ndarray:
    """A 16-bit single-channel PNG as (H, W) uint16; anything else is an error naming `what` it should be."""
    path = Path(path)
    image = _open_image(path)
    if image.mode not in _SIXTEEN_BIT_MODES:
        raise FrameFormatError(f"{path}: {what} must be a 16-bit single-channel PNG, got mode {image.mode!r}")
    values = np.asarray(image)
    if values.dtype != np.uint16:
        if values.min(initial=0) < 0 or values.max(initial=0) > 65535:
            raise FrameFormatError(f"{path}: {what} values outside 0..65535")
        values = values.astype(np.uint16)
    return values


def read_depth(path: str | os.PathLike, depth_scale: float) -> np.ndarray:
    """A 16-bit depth PNG as float32 metres (PNG value / depth_scale; 0 stays 0 = invalid)."""
    return (read_uint16_png(path, "depth").astype(np.float32) / np.float32(depth_scale))


def read_matrix(path: str | os.PathLike, rows: int = 4, cols: int = 4) -> np.ndarray:
    """A whitespace-separated rows × cols text matrix (ScanNet pose/intrinsic files) as float64.
    Non-finite values (ScanNet marks lost tracking with -inf) are returned as they are."""
    path = Path(path)
    if not path.is_file():
        raise FrameFormatError(f"{path}: file not found")
    lines = [(n, line.split()) for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]
    if len(lines) != rows:
        raise FrameFormatError(f"{path}: expected {rows} rows of {cols} numbers, found {len(lines)} non-empty lines")
    matrix = np.empty((rows, cols))
    for r, (n, fields) in enumerate(lines):
        if len(fields) != cols:
            raise FrameFormatError(f"{path}: line {n}: expected {cols} numbers, got {len(fields)}")
        for c, text in enumerate(fields):
            matrix[r, c] = _parse_float(text, f"{path}: line {n}, field {c + 1}")
    return matrix


def _parse_float(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FrameFormatError(f"{where}: expected a number, got {text!r}") from None


def _check_size(array: np.ndarray, width: int, height: int, path) -> None:
    if array.shape[:2] != (height, width):
        raise FrameFormatError(f"{path}: image is {array.shape[1]}×{array.shape[0]}, expected {width}×{height}")


def _check_pose(pose: np.ndarray, where: str) -> None:
    if not np.isfinite(pose).all():
        raise FrameFormatError(f"{where}: pose has non-finite values")
    if not np.allclose(pose[3], [0, 0, 0, 1], atol=1e-6) or not np.allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3),
                                                                         atol=1e-3):
        raise FrameFormatError(f"{where}: not a rigid transform (rotation not orthonormal or last row not 0 0 0 1)")


# --- this project's scene folders -------------------------------------------------------------

def iter_scene_frames(folder: str | os.PathLike, with_instance: bool = True) -> Iterator[RGBDFrame]:
    """Frames of a scene folder written by `ssr data gen` (layout in docs/DATA.md)."""
    folder = Path(folder)
    scene = Scene.load(folder)
    cam = scene.camera
    K = np.array([[cam.fx, 0, cam.cx], [0, cam.fy, cam.cy], [0, 0, 1]], dtype=np.float64)
    for record in scene.frames:
        rgb = read_color(folder / record.color)
        depth = read_depth(folder / record.depth, cam.depth_scale)
        _check_size(rgb, cam.width, cam.height, folder / record.color)
        _check_size(depth, cam.width, cam.height, folder / record.depth)
        instance = None
        if with_instance and record.instance is not None:
            instance = read_uint16_png(folder / record.instance, "instance mask")
            _check_size(instance, cam.width, cam.height, folder / record.instance)
        pose = np.array(record.T_wc, dtype=np.float64)
        _check_pose(pose, f"{folder / 'scene.json'}: frames[{record.index}].T_wc")
        yield RGBDFrame(rgb, depth, K.copy(), pose, record.t, instance, record.color)


# --- ScanNet exports ------------------------------------------------------------------------------

def iter_scannet_frames(folder: str | os.PathLike, intrinsic: str = "depth", fps: float = SCANNET_FPS,
                        skip_invalid_poses: bool = True) -> Iterator[RGBDFrame]:
    """Frames of a ScanNet export (SensReader layout): color/N.jpg, depth/N.png (mm), pose/N.txt (4×4
    camera-to-world), intrinsic/intrinsic_{color,depth}.txt (4×4). Frames come in numeric order of N,
    t = N / fps. ScanNet's colour and depth images differ in size: with intrinsic="depth" the colour
    image is resized to the depth image (bilinear), with "color" the depth image is resized to the
    colour image (nearest, so no depths are invented). Frames whose pose is non-finite (ScanNet's
    mark for lost tracking) are skipped unless skip_invalid_poses is False (then: an error)."""
    if intrinsic not in ("depth", "color"):
        raise ValueError(f"intrinsic must be 'depth' or 'color', got {intrinsic!r}")
    folder = Path(folder)
    K = read_matrix(folder / "intrinsic" / f"intrinsic_{intrinsic}.txt")[:3, :3].copy()
    color_dir = folder / "color"
    if not color_dir.is_dir():
        raise FrameFormatError(f"{color_dir}: folder not found")
    numbered = sorted((int(p.stem), p) for p in color_dir.iterdir() if p.stem.isdigit() and p.suffix in (".jpg", ".png"))
    if not numbered:
        raise FrameFormatError(f"{color_dir}: no numbered colour images (N.jpg)")
    for number, color_path in numbered:
        pose_path = folder / "pose" / f"{number}.txt"
        pose = read_matrix(pose_path)
        if not np.isfinite(pose).all() and skip_invalid_poses:
            continue
        _check_pose(pose, str(pose_path))
        rgb = read_color(color_path)
        depth = read_depth(folder / "depth" / f"{number}.png", SCANNET_DEPTH_SCALE)
        rgb, depth = _match_sizes(rgb, depth, intrinsic)
        yield RGBDFrame(rgb, depth, K.copy(), pose, number / fps, None, str(color_path))


def _match_sizes(rgb: np.ndarray, depth: np.ndarray, keep: str) -> tuple[np.ndarray, np.ndarray]:
    if rgb.shape[:2] == depth.shape:
        return rgb, depth
    if keep == "depth":
        size = (depth.shape[1], depth.shape[0])
        return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR)), depth
    size = (rgb.shape[1], rgb.shape[0])
    return rgb, np.asarray(Image.fromarray(depth).resize(size, Image.NEAREST), dtype=np.float32)


# --- TUM RGB-D ---------------------------------------------------------------------------------------

def read_tum_list(path: str | os.PathLike, fields: int) -> list[tuple[float, list[str]]]:
    """A TUM list file: '#' comments, then lines 'timestamp value...' with `fields` values each."""
    path = Path(path)
    if not path.is_file():
        raise FrameFormatError(f"{path}: file not found")
    entries = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != fields + 1:
            raise FrameFormatError(f"{path}: line {n}: expected a timestamp and {fields} value(s), got {len(parts)} fields")
        entries.append((_parse_float(parts[0], f"{path}: line {n}, field 1 (timestamp)"), parts[1:]))
    return entries


def read_tum_poses(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """groundtruth.txt ('timestamp tx ty tz qx qy qz qw') as timestamps (N,) and T_wc (N, 4, 4)."""
    path = Path(path)
    if not path.is_file():
        raise FrameFormatError(f"{path}: file not found")
    stamps, poses = [], []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 8:
            raise FrameFormatError(f"{path}: line {n}: expected 8 numbers 'timestamp tx ty tz qx qy qz qw', "
                                   f"got {len(parts)} fields")
        values = [_parse_float(p, f"{path}: line {n}, field {i + 1}") for i, p in enumerate(parts)]
        if not all(math.isfinite(v) for v in values):
            raise FrameFormatError(f"{path}: line {n}: non-finite value")
        q = np.array(values[4:8])
        norm = np.linalg.norm(q)
        if not 0.5 < norm < 1.5:
            raise FrameFormatError(f"{path}: line {n}: quaternion norm {norm:.3g} is not close to 1")
        stamps.append(values[0])
        poses.append(_pose_from_quaternion(np.array(values[1:4]), q / norm))
    if not stamps:
        raise FrameFormatError(f"{path}: no poses")
    return np.array(stamps), np.stack(poses)


def _pose_from_quaternion(translation: np.ndarray, q: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    pose = np.eye(4)
    pose[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    pose[:3, 3] = translation
    return pose


def _nearest(stamps: np.ndarray, t: float) -> int:
    """Index of the stamp nearest to t in the sorted array `stamps`."""
    i = int(np.searchsorted(stamps, t))
    candidates = [j for j in (i - 1, i) if 0 <= j < len(stamps)]
    return min(candidates, key=lambda j: abs(stamps[j] - t))


def iter_tum_frames(folder: str | os.PathLike, intrinsics: tuple[float, float, float, float] = TUM_FR1_INTRINSICS,
                    depth_scale: float = TUM_DEPTH_SCALE, max_dt: float = 0.02) -> Iterator[RGBDFrame]:
    """Frames of a TUM RGB-D sequence folder (rgb.txt, depth.txt, groundtruth.txt and the images).
    Each colour image is paired with the depth image and the pose nearest in time; a colour image
    with no depth or no pose within `max_dt` seconds is skipped. t = the colour image's timestamp.
    `intrinsics` = (fx, fy, cx, cy), default freiburg1."""
    folder = Path(folder)
    colors = read_tum_list(folder / "rgb.txt", 1)
    depths = read_tum_list(folder / "depth.txt", 1)
    pose_stamps, poses = read_tum_poses(folder / "groundtruth.txt")
    order = np.argsort(pose_stamps, kind="stable")
    pose_stamps, poses = pose_stamps[order], poses[order]
    depths.sort(key=lambda e: e[0])
    depth_stamps = np.array([e[0] for e in depths])
    fx, fy, cx, cy = intrinsics
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64)
    paired = 0
    for t, (color_name,) in colors:
        if len(depth_stamps) == 0:
            break
        d = _nearest(depth_stamps, t)
        p = _nearest(pose_stamps, t)
        if abs(depth_stamps[d] - t) > max_dt or abs(pose_stamps[p] - t) > max_dt:
            continue
        paired += 1
        rgb = read_color(folder / color_name)
        depth = read_depth(folder / depths[d][1][0], depth_scale)
        if rgb.shape[:2] != depth.shape:
            raise FrameFormatError(f"{folder / depths[d][1][0]}: depth is {depth.shape[1]}×{depth.shape[0]} but "
                                   f"{color_name} is {rgb.shape[1]}×{rgb.shape[0]}")
        yield RGBDFrame(rgb, depth, K.copy(), poses[p].copy(), t, None, str(folder / color_name))
    if paired == 0:
        raise FrameFormatError(f"{folder}: no colour image has a depth image and a pose within {max_dt} s")


# --- any of them ------------------------------------------------------------------------------------

def detect_format(folder: str | os.PathLike) -> str:
    """'ssr', 'scannet' or 'tum' from the files in `folder`."""
    folder = Path(folder)
    if (folder / "scene.json").is_file():
        return "ssr"
    if (folder / "rgb.txt").is_file() and (folder / "groundtruth.txt").is_file():
        return "tum"
    if (folder / "pose").is_dir() and (folder / "intrinsic").is_dir():
        return "scannet"
    raise FrameFormatError(f"{folder}: not a scene folder (scene.json), TUM sequence (rgb.txt, groundtruth.txt) "
                           f"or ScanNet export (pose/, intrinsic/)")


def iter_frames(folder: str | os.PathLike) -> Iterator[RGBDFrame]:
    """Frames of any supported folder, with each reader's defaults."""
    readers = {"ssr": iter_scene_frames, "scannet": iter_scannet_frames, "tum": iter_tum_frames}
    return readers[detect_format(folder)](folder)

