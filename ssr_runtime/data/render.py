"""Ray-cast rendering of a room layout with open3d's RaycastingScene (CPU).

Every object part, wall, door and window is a box mesh. One ray per pixel through the pixel centre
of an OpenCV pinhole camera gives: z-depth in metres (the ray direction has camera z = 1, so the hit
parameter *is* the z-depth), the instance id of the hit object (0 for walls, floor, ceiling, doors
and windows, and where nothing is hit), and a colour: the part's base colour × a procedural texture
(evaluated at the world hit point on the face plane, so it sticks to the surface) × Lambertian
shading (ambient plus one directional light) from the face normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ssr_runtime.data.categories import KINDS
from ssr_runtime.data.rooms import WALL_THICKNESS, Layout, wall_boxes
from ssr_runtime.data.scene import Camera
from ssr_runtime.data.shapes import shape_parts

TEXTURES = ("plain", "wood", "fabric", "tile", "leaf", "screen", "window")
_CEILING_COLOR = (0.93, 0.93, 0.92)
_DOOR_COLOR = (0.58, 0.42, 0.28)
_WINDOW_COLOR = (0.82, 0.9, 1.0)
_BOX_TRIANGLES = np.array([[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7]]
                          + [[i, (i + 1) % 4, (i + 1) % 4 + 4] for i in range(4)]
                          + [[i, (i + 1) % 4 + 4, i + 4] for i in range(4)], dtype=np.uint32)


@dataclass(frozen=True)
class Solid:
    """A box in the world with what it looks like and which instance it belongs to (0 = the room)."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    color: tuple[float, float, float]
    texture: str
    instance_id: int


def box_vertices(center, size, yaw: float) -> np.ndarray:
    """(8, 3) corners: bottom face counter-clockwise, then the top face."""
    c, s = math.cos(yaw), math.sin(yaw)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], float)
    xy = (signs * np.asarray(size[:2]) / 2) @ np.array([[c, s], [-s, c]]) + np.asarray(center[:2])
    z0, z1 = center[2] - size[2] / 2, center[2] + size[2] / 2
    return np.vstack([np.column_stack([xy, np.full(4, z0)]), np.column_stack([xy, np.full(4, z1)])])


def layout_solids(layout: Layout, ceiling: bool = True) -> list[Solid]:
    """Everything to draw: the room shell, doors, windows, then each object's parts (instance i + 1)."""
    poly = np.asarray(layout.polygon)
    lo, hi = poly.min(axis=0) - WALL_THICKNESS, poly.max(axis=0) + WALL_THICKNESS
    mid, extent = (lo + hi) / 2, hi - lo
    solids = [Solid((mid[0], mid[1], -0.05), (extent[0], extent[1], 0.1), 0.0, layout.floor_color, layout.floor_texture, 0)]
    if ceiling:
        solids.append(Solid((mid[0], mid[1], layout.height + 0.05), (extent[0], extent[1], 0.1), 0.0,
                            _CEILING_COLOR, "plain", 0))
    for wall in wall_boxes(layout.polygon, layout.height):
        solids.append(Solid(tuple(wall.center), tuple(wall.size), wall.yaw, layout.wall_color, "plain", 0))
    for door in layout.doors:
        solids.append(Solid(door.center, door.size, door.yaw, _DOOR_COLOR, "wood", 0))
    for window in layout.windows:
        solids.append(Solid(window.center, window.size, window.yaw, _WINDOW_COLOR, "window", 0))
    for index, obj in enumerate(layout.objects):
        category = KINDS[obj.kind]
        c, s = math.cos(obj.yaw), math.sin(obj.yaw)
        for part in shape_parts(category.shape, obj.size):
            px, py, pz = part.center
            center = (obj.center[0] + c * px - s * py, obj.center[1] + s * px + c * py, obj.center[2] + pz)
            solids.append(Solid(center, part.size, obj.yaw, part.color or obj.color, part.texture or category.texture,
                                index + 1))
    return solids


class Renderer:
    """Renders one layout from any pose. Not thread-safe; build one per process."""

    def __init__(self, layout: Layout, camera: Camera, ceiling: bool = True, nthreads: int = 0):
        import open3d as o3d

        self._o3c = o3d.core
        self._scene = o3d.t.geometry.RaycastingScene(nthreads=nthreads)
        solids = layout_solids(layout, ceiling)
        for solid in solids:
            vertices = box_vertices(solid.center, solid.size, solid.yaw).astype(np.float32)
            self._scene.add_triangles(o3d.core.Tensor(vertices), o3d.core.Tensor(_BOX_TRIANGLES))
        # Lookup tables by geometry id (ids are 0, 1, ... in insertion order); the last entry = no hit.
        self._instance = np.array([s.instance_id for s in solids] + [0], dtype=np.uint16)
        self._color = np.array([s.color for s in solids] + [(0.0, 0.0, 0.0)], dtype=np.float32)
        self._texture = np.array([TEXTURES.index(s.texture) for s in solids] + [0], dtype=np.int8)
        light = np.array([math.cos(layout.light_azimuth), math.sin(layout.light_azimuth), 1.2])
        self._light = (light / np.linalg.norm(light)).astype(np.float32)
        self.camera = camera
        u, v = np.meshgrid(np.arange(camera.width, dtype=np.float64), np.arange(camera.height, dtype=np.float64))
        self._dirs_cam = np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones_like(u)],
                                  axis=-1).reshape(-1, 3).astype(np.float32)

    def render(self, T_wc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """rgb uint8 (H, W, 3), depth float32 metres (H, W; 0 where nothing is hit), instance uint16 (H, W)."""
        h, w = self.camera.height, self.camera.width
        # einsum: numpy's matmul is ~10x slower for (N, 3) @ (3, 3) on this kind of machine.
        directions = np.einsum("ij,kj->ik", self._dirs_cam, T_wc[:3, :3].astype(np.float32))
        origin = np.broadcast_to(T_wc[:3, 3], directions.shape)
        rays = np.concatenate([origin, directions], axis=1).astype(np.float32)
        hits = self._scene.cast_rays(self._o3c.Tensor(rays))
        t = hits["t_hit"].numpy()
        hit = np.isfinite(t)
        geometry = np.where(hit, hits["geometry_ids"].numpy(), len(self._instance) - 1).astype(np.int64)
        normal = hits["primitive_normals"].numpy()
        # Face the normal towards the camera: box winding then does not matter.
        normal *= np.where(np.einsum("ij,ij->i", normal, directions) > 0, -1.0, 1.0)[:, None].astype(np.float32)
        points = T_wc[:3, 3].astype(np.float32) + directions * np.where(hit, t, np.float32(0))[:, None]
        texture_code = self._texture[geometry]
        shade = 0.55 + 0.45 * np.clip(np.einsum("ij,j->i", normal, self._light), 0.0, 1.0)
        shade = np.where(texture_code == TEXTURES.index("window"), 1.0, shade)
        rgb = self._color[geometry] * (_texture(texture_code, points, normal) * shade)[:, None]
        rgb = np.where(hit[:, None], rgb, 0.0)
        depth = np.where(hit, t, 0.0).astype(np.float32)
        return ((np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8).reshape(h, w, 3), depth.reshape(h, w),
                self._instance[geometry].reshape(h, w))


def _hash01(*cells: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer cell."""
    h = np.zeros(cells[0].shape, dtype=np.uint64)
    for cell, prime in zip(cells, (np.uint64(73856093), np.uint64(19349663), np.uint64(83492791))):
        h ^= cell.astype(np.int64).astype(np.uint64) * prime
    h ^= h >> np.uint64(13)
    h *= np.uint64(0x5BD1E995)
    h ^= h >> np.uint64(15)
    return (h & np.uint64(0xFFFF)).astype(np.float32) / 65536.0


def _texture(code: np.ndarray, points: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Brightness factor per pixel from the texture `code` at world `points` on faces with `normal`."""
    axis = np.argmax(np.abs(normal), axis=1)
    u = np.where(axis == 0, points[:, 1], points[:, 0]).astype(np.float32)
    v = np.where(axis == 2, points[:, 1], points[:, 2]).astype(np.float32)
    fine = _hash01(np.floor(u / 0.01), np.floor(v / 0.01), axis)
    coarse = _hash01(np.floor(u / 0.04), np.floor(v / 0.04), axis + 3)
    factor = 1.0 + 0.05 * (fine - 0.5)
    for name, pattern in _PATTERNS.items():
        mask = code == TEXTURES.index(name)
        if mask.any():
            factor[mask] = pattern(u[mask], v[mask], fine[mask], coarse[mask])
    return factor


def _wood(u, v, fine, coarse):
    grain = 1.0 + 0.07 * np.sin(2 * np.pi * (v / 0.02 + 0.8 * np.sin(2 * np.pi * u / 0.7))) + 0.1 * (coarse - 0.5)
    return np.where(np.mod(v, 0.16) < 0.006, 0.75, grain)  # plank seams


_PATTERNS = {
    "wood": _wood,
    "fabric": lambda u, v, fine, coarse: 1.0 + 0.12 * (fine - 0.5) + 0.08 * (coarse - 0.5),
    "tile": lambda u, v, fine, coarse: np.where((np.mod(u, 0.3) < 0.008) | (np.mod(v, 0.3) < 0.008), 0.7,
                                                1.0 + 0.06 * (coarse - 0.5)),
    "leaf": lambda u, v, fine, coarse: 0.65 + 0.6 * coarse + 0.1 * (fine - 0.5),
    "screen": lambda u, v, fine, coarse: 1.0 + 0.5 * np.mod(u + v, 1.0),
}


def add_sensor_noise(rgb: np.ndarray, depth: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Consumer RGB-D sensor artefacts: Kinect-like axial depth noise (sigma = 1.2 mm + 1.9 mm·(z−0.4 m)²,
    Nguyen et al. 2012), holes along depth edges and a few scattered dropouts (depth 0), and
    Gaussian colour noise (sigma 3 levels)."""
    z = depth.astype(np.float64)
    noisy = z + rng.normal(0.0, 1.0, z.shape) * (0.0012 + 0.0019 * (z - 0.4) ** 2)
    edge = np.zeros(z.shape, dtype=bool)
    jump_y = np.abs(np.diff(z, axis=0)) > 0.05 * np.maximum(z[1:], 0.1)
    jump_x = np.abs(np.diff(z, axis=1)) > 0.05 * np.maximum(z[:, 1:], 0.1)
    edge[1:] |= jump_y
    edge[:-1] |= jump_y
    edge[:, 1:] |= jump_x
    edge[:, :-1] |= jump_x
    holes = (edge & (rng.random(z.shape) < 0.6)) | (rng.random(z.shape) < 0.005)
    noisy = np.where(holes | (z <= 0), 0.0, noisy).astype(np.float32)
    color = np.clip(rgb.astype(np.float32) + rng.normal(0.0, 3.0, rgb.shape), 0, 255).astype(np.uint8)
    return color, noisy
