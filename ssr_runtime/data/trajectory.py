"""A hand-held scan: one lap of the room's walk loop at head height, looking across the room.

Like a ScanNet capture, the camera moves smoothly and keeps the room's content in view: it faces the
loop's inward normal (smoothed over about a metre of path so corners turn gently), with a slow side
to side sway, a downward pitch of about 15–28° that nods slowly, and a little roll. Frames are evenly
spaced in time at a walking pace.
"""

from __future__ import annotations

import math

import numpy as np


def walk_poses(walk: np.ndarray, n_frames: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Camera-to-world poses (n_frames, 4, 4) and timestamps (n_frames,) in seconds along the closed
    counter-clockwise loop `walk` ((M, 2) points, evenly spaced)."""
    seg = np.linalg.norm(np.roll(walk, -1, axis=0) - walk, axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    length = s[-1]
    heading = _smoothed_inward_heading(walk, smoothing_m=0.6)

    start, direction = rng.uniform(0, length), rng.choice([-1.0, 1.0])
    travelled = (start + direction * length * np.arange(n_frames) / n_frames) % length
    closed = np.vstack([walk, walk[:1]])
    xy = np.stack([np.interp(travelled, s, closed[:, 0]), np.interp(travelled, s, closed[:, 1])], axis=1)
    yaw = np.interp(travelled, s, np.append(heading, heading[0] + 2 * math.pi))

    phase = 2 * math.pi * np.arange(n_frames) / n_frames
    yaw = yaw + rng.uniform(0.15, 0.4) * np.sin(int(rng.integers(2, 4)) * phase + rng.uniform(0, 2 * math.pi))
    pitch = rng.uniform(0.32, 0.42) + 0.06 * np.sin(3 * phase + rng.uniform(0, 2 * math.pi))
    roll = 0.03 * np.sin(2 * phase + rng.uniform(0, 2 * math.pi))
    eye_height = rng.uniform(1.43, 1.67) + 0.02 * np.sin(5 * phase)

    speed = rng.uniform(0.3, 0.5)
    dt = round(float(np.clip(length / (speed * n_frames), 0.15, 1.5)), 3)
    poses = np.stack([_pose(np.array([x, y, z]), a, p, r) for (x, y), z, a, p, r in zip(xy, eye_height, yaw, pitch, roll)])
    return poses, np.round(np.arange(n_frames) * dt, 3)


def _smoothed_inward_heading(walk: np.ndarray, smoothing_m: float) -> np.ndarray:
    """Angle of the loop's inward normal at each point, unwrapped, smoothed along the loop."""
    tangent = np.roll(walk, -1, axis=0) - np.roll(walk, 1, axis=0)
    angle = np.unwrap(np.arctan2(tangent[:, 0], -tangent[:, 1]))  # inward = the tangent turned left
    n = len(walk)
    trend = 2 * math.pi * np.arange(n) / n  # a counter-clockwise loop turns once
    residual = angle - angle[0] - trend
    spacing = float(np.mean(np.linalg.norm(np.roll(walk, -1, axis=0) - walk, axis=1)))
    sigma = max(1.0, smoothing_m / spacing)
    offsets = np.arange(-int(3 * sigma), int(3 * sigma) + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([residual[-len(offsets):], residual, residual[:len(offsets)]])
    smooth = np.convolve(padded, kernel, mode="same")[len(offsets):len(offsets) + n]
    return angle[0] + trend + smooth


def _pose(eye: np.ndarray, yaw: float, pitch_down: float, roll: float) -> np.ndarray:
    """OpenCV camera (x right, y down, z forward) at `eye` looking along yaw, tilted down by pitch."""
    forward = np.array([math.cos(yaw) * math.cos(pitch_down), math.sin(yaw) * math.cos(pitch_down), -math.sin(pitch_down)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = math.cos(roll), math.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    return pose
