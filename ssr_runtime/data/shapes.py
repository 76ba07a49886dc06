"""Object shapes as a few boxes ("parts") in the object's own frame.

The frame: origin at the centre of the object's 7-DoF box, x along the heading (the object's front
faces +x), y to its left, z up. Every shape's parts together span exactly [-l/2, l/2] × [-w/2, w/2] ×
[-h/2, h/2], so the object's box in scene.json is the tight bounding box of what is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

# Colours shared by several shapes (linear RGB in [0, 1]).
WOOD = (0.52, 0.36, 0.22)
METAL = (0.55, 0.56, 0.58)
SCREEN = (0.06, 0.07, 0.09)
WHITE = (0.92, 0.92, 0.9)


@dataclass(frozen=True)
class Part:
    """One box of a shape: centre and size in the object frame (m). `color` None = the object's
    own colour; `texture` None = the object's category texture."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    color: tuple[float, float, float] | None = None
    texture: str | None = None


def _span(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, color=None, texture=None) -> Part:
    """A part given by its extents along x, y and z."""
    return Part(((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2), (x1 - x0, y1 - y0, z1 - z0), color, texture)


def _legs(l: float, w: float, z0: float, z1: float, leg: float, color) -> list[Part]:
    """Four square legs of side `leg` in the corners of the l × w footprint."""
    def extent(sign: int, half: float) -> tuple[float, float]:
        return (half - leg, half) if sign > 0 else (-half, -half + leg)
    return [_span(*extent(sx, l / 2), *extent(sy, w / 2), z0, z1, color) for sx in (-1, 1) for sy in (-1, 1)]


def _table(l: float, w: float, h: float) -> list[Part]:
    top = min(0.04, 0.12 * h)
    leg = min(0.06, 0.15 * min(l, w))
    return [_span(-l / 2, l / 2, -w / 2, w / 2, h / 2 - top, h / 2)] + _legs(l, w, -h / 2, h / 2 - top, leg, None)


def _chair(l: float, w: float, h: float) -> list[Part]:
    seat_top = -h / 2 + min(0.47, 0.5 * h)
    return ([_span(-l / 2, l / 2, -w / 2, w / 2, seat_top - 0.05, seat_top),
             _span(-l / 2, -l / 2 + 0.06, -w / 2, w / 2, seat_top, h / 2)]
            + _legs(l, w, -h / 2, seat_top - 0.05, 0.04, METAL))


def _sofa(l: float, w: float, h: float) -> list[Part]:
    arm = min(0.18, 0.12 * w)
    return [_span(-l / 2, l / 2, -w / 2, w / 2, -h / 2, -h / 2 + 0.48 * h),
            _span(-l / 2, -l / 2 + 0.22, -w / 2, w / 2, -h / 2, h / 2),
            _span(-l / 2, l / 2, -w / 2, -w / 2 + arm, -h / 2, -h / 2 + 0.68 * h),
            _span(-l / 2, l / 2, w / 2 - arm, w / 2, -h / 2, -h / 2 + 0.68 * h)]


def _bed(l: float, w: float, h: float) -> list[Part]:
    frame_top = -h / 2 + 0.55 * h
    return [_span(-l / 2, l / 2, -w / 2, w / 2, -h / 2, frame_top, WOOD, "wood"),
            _span(-l / 2 + 0.03, l / 2 - 0.03, -w / 2 + 0.03, w / 2 - 0.03, frame_top, h / 2)]


def _lamp(l: float, w: float, h: float) -> list[Part]:
    return [_span(-0.3 * l, 0.3 * l, -0.3 * w, 0.3 * w, -h / 2, -h / 2 + 0.03, METAL, "plain"),
            _span(-0.02, 0.02, -0.02, 0.02, -h / 2 + 0.03, h / 2 - 0.25 * h, METAL, "plain"),
            _span(-l / 2, l / 2, -w / 2, w / 2, h / 2 - 0.28 * h, h / 2)]


def _plant(l: float, w: float, h: float) -> list[Part]:
    return [_span(-0.32 * l, 0.32 * l, -0.32 * w, 0.32 * w, -h / 2, -h / 2 + 0.35 * h, (0.62, 0.33, 0.2), "plain"),
            _span(-l / 2, l / 2, -w / 2, w / 2, -h / 2 + 0.3 * h, h / 2)]


def _shelf(l: float, w: float, h: float) -> list[Part]:
    side, board = 0.03, 0.025
    parts = [_span(-l / 2, l / 2, -w / 2, -w / 2 + side, -h / 2, h / 2),
             _span(-l / 2, l / 2, w / 2 - side, w / 2, -h / 2, h / 2),
             _span(-l / 2, -l / 2 + 0.02, -w / 2 + side, w / 2 - side, -h / 2, h / 2)]
    levels = max(2, round(h / 0.38))
    for i in range(levels + 1):
        z = -h / 2 + i * (h - board) / levels
        parts.append(_span(-l / 2 + 0.02, l / 2, -w / 2 + side, w / 2 - side, z, z + board))
    return parts


def _monitor(l: float, w: float, h: float) -> list[Part]:
    return [_span(-l / 2, l / 2, -0.15 * w, 0.15 * w, -h / 2, -h / 2 + 0.02, METAL, "plain"),
            _span(-0.03, 0.0, -0.03, 0.03, -h / 2 + 0.02, -h / 2 + 0.4 * h, METAL, "plain"),
            _span(-0.015, 0.015, -w / 2, w / 2, -h / 2 + 0.33 * h, h / 2, SCREEN, "screen")]


def _laptop(l: float, w: float, h: float) -> list[Part]:
    return [_span(-l / 2, l / 2, -w / 2, w / 2, -h / 2, -h / 2 + 0.02),
            _span(-l / 2, -l / 2 + 0.015, -w / 2, w / 2, -h / 2 + 0.02, h / 2, SCREEN, "screen")]


def _tv(l: float, w: float, h: float) -> list[Part]:
    return [_span(-l / 2, l / 2, -0.2 * w, 0.2 * w, -h / 2, -h / 2 + 0.03),
            _span(-0.025, 0.025, -w / 2, w / 2, -h / 2 + 0.03, h / 2, SCREEN, "screen")]


def _toilet(l: float, w: float, h: float) -> list[Part]:
    tank = min(0.2, 0.3 * l)
    return [_span(-l / 2, -l / 2 + tank, -w / 2, w / 2, -h / 2, h / 2),
            _span(-l / 2 + tank, l / 2, -0.42 * w, 0.42 * w, -h / 2, -h / 2 + min(0.42, 0.6 * h))]


def _bathtub(l: float, w: float, h: float) -> list[Part]:
    rim = 0.07
    return [_span(-l / 2, l / 2, -w / 2, w / 2, -h / 2, -h / 2 + 0.1),
            _span(-l / 2, -l / 2 + rim, -w / 2, w / 2, -h / 2 + 0.1, h / 2),
            _span(l / 2 - rim, l / 2, -w / 2, w / 2, -h / 2 + 0.1, h / 2),
            _span(-l / 2 + rim, l / 2 - rim, -w / 2, -w / 2 + rim, -h / 2 + 0.1, h / 2),
            _span(-l / 2 + rim, l / 2 - rim, w / 2 - rim, w / 2, -h / 2 + 0.1, h / 2)]


def _sink(l: float, w: float, h: float) -> list[Part]:
    return [_span(-l / 2, l / 2 - 0.02, -w / 2 + 0.02, w / 2 - 0.02, -h / 2, h / 2 - 0.04),
            _span(-l / 2, l / 2, -w / 2, w / 2, h / 2 - 0.04, h / 2, WHITE, "plain")]


def _box(l: float, w: float, h: float) -> list[Part]:
    return [Part((0.0, 0.0, 0.0), (l, w, h))]


_SHAPES = {
    "box": _box, "table": _table, "chair": _chair, "sofa": _sofa, "bed": _bed, "lamp": _lamp,
    "plant": _plant, "shelf": _shelf, "monitor": _monitor, "laptop": _laptop, "tv": _tv,
    "toilet": _toilet, "bathtub": _bathtub, "sink": _sink,
}
SHAPE_NAMES = tuple(_SHAPES)


def shape_parts(shape: str, size: tuple[float, float, float]) -> list[Part]:
    """The parts of `shape` for an object of size (l, w, h), metres."""
    return _SHAPES[shape](*size)
