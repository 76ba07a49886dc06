"""Object categories of the synthetic rooms: realistic size ranges, look, shape and whether small
objects can stand on them. Sizes follow the 7-DoF convention: l along the heading (the direction the
object's front faces), w across it, h up; metres."""

from __future__ import annotations

from dataclasses import dataclass

from ssr_runtime.data.shapes import SHAPE_NAMES


@dataclass(frozen=True)
class Category:
    label: str
    l: tuple[float, float]
    w: tuple[float, float]  # ignored when `square`: then w = l
    h: tuple[float, float]
    palette: tuple[tuple[float, float, float], ...]
    texture: str = "plain"
    shape: str = "box"
    square: bool = False
    is_support: bool = False  # small objects may be put on its top face


def _c(label, l, w, h, palette, texture="plain", shape="box", square=False, is_support=False) -> Category:
    assert shape in SHAPE_NAMES, shape
    return Category(label, l, w, h, tuple(palette), texture, shape, square, is_support)


_WOODS = ((0.55, 0.38, 0.24), (0.68, 0.52, 0.36), (0.36, 0.24, 0.16), (0.78, 0.66, 0.5))
_FABRICS = ((0.35, 0.42, 0.55), (0.6, 0.58, 0.52), (0.45, 0.3, 0.28), (0.3, 0.45, 0.38), (0.5, 0.5, 0.53))
_LIGHTS = ((0.9, 0.88, 0.84), (0.82, 0.85, 0.88), (0.75, 0.72, 0.66))
_DARKS = ((0.15, 0.15, 0.17), (0.25, 0.26, 0.3), (0.4, 0.41, 0.43))
_GREENS = ((0.22, 0.45, 0.2), (0.3, 0.52, 0.25), (0.18, 0.38, 0.24))

# Kinds: what the room plans place. Several kinds may share a label (a floor lamp and a table lamp are
# both `lamp`); a label is what scene.json and the questions see.
KINDS: dict[str, Category] = {
    "bed": _c("bed", (1.9, 2.15), (1.3, 1.8), (0.45, 0.6), _LIGHTS + _FABRICS, "fabric", "bed", is_support=True),
    "pillow": _c("pillow", (0.32, 0.45), (0.45, 0.62), (0.1, 0.18), _LIGHTS + _FABRICS, "fabric"),
    "nightstand": _c("nightstand", (0.35, 0.45), (0.4, 0.55), (0.45, 0.65), _WOODS + _LIGHTS, "wood", is_support=True),
    "wardrobe": _c("wardrobe", (0.55, 0.65), (0.9, 2.0), (1.8, 2.2), _WOODS + _LIGHTS, "wood"),
    "dresser": _c("dresser", (0.42, 0.55), (0.9, 1.6), (0.75, 1.0), _WOODS, "wood", is_support=True),
    "desk": _c("desk", (0.55, 0.8), (1.0, 1.6), (0.72, 0.78), _WOODS + _LIGHTS, "wood", "table", is_support=True),
    "chair": _c("chair", (0.45, 0.55), (0.42, 0.5), (0.8, 1.0), _WOODS + _DARKS + _FABRICS, "wood", "chair"),
    "table": _c("table", (0.75, 1.0), (1.0, 1.8), (0.72, 0.78), _WOODS + _LIGHTS, "wood", "table", is_support=True),
    "sofa": _c("sofa", (0.8, 1.0), (1.6, 2.4), (0.75, 0.95), _FABRICS, "fabric", "sofa"),
    "armchair": _c("armchair", (0.75, 0.9), (0.7, 0.9), (0.8, 1.0), _FABRICS, "fabric", "sofa"),
    "coffee_table": _c("coffee_table", (0.5, 0.7), (0.9, 1.3), (0.38, 0.48), _WOODS + _DARKS, "wood", "table",
                       is_support=True),
    "tv": _c("tv", (0.18, 0.3), (0.8, 1.4), (0.5, 0.85), _DARKS, "plain", "tv"),
    "cabinet": _c("cabinet", (0.4, 0.6), (0.6, 1.4), (0.75, 0.95), _WOODS + _LIGHTS, "wood", is_support=True),
    "shelf": _c("shelf", (0.28, 0.4), (0.6, 1.2), (0.9, 1.9), _WOODS + _LIGHTS, "wood", "shelf", is_support=True),
    "fridge": _c("fridge", (0.6, 0.75), (0.6, 0.9), (1.5, 1.9), _LIGHTS + _DARKS[2:], "plain"),
    "sink": _c("sink", (0.45, 0.6), (0.5, 0.9), (0.8, 0.9), _WOODS + _LIGHTS, "wood", "sink", is_support=True),
    "toilet": _c("toilet", (0.62, 0.75), (0.36, 0.45), (0.7, 0.8), ((0.93, 0.93, 0.92),), "plain", "toilet"),
    "bathtub": _c("bathtub", (0.7, 0.8), (1.5, 1.8), (0.5, 0.6), ((0.94, 0.94, 0.93),), "plain", "bathtub"),
    "floor_lamp": _c("lamp", (0.3, 0.45), (0, 0), (1.3, 1.8), _LIGHTS, "fabric", "lamp", square=True),
    "table_lamp": _c("lamp", (0.18, 0.3), (0, 0), (0.35, 0.55), _LIGHTS, "fabric", "lamp", square=True),
    "plant": _c("plant", (0.3, 0.55), (0, 0), (0.5, 1.4), _GREENS, "leaf", "plant", square=True),
    "stool": _c("stool", (0.32, 0.42), (0, 0), (0.45, 0.75), _WOODS + _DARKS, "wood", "table", square=True),
    "trash_can": _c("trash_can", (0.25, 0.4), (0, 0), (0.3, 0.6), _DARKS + _LIGHTS, "plain", square=True),
    "monitor": _c("monitor", (0.15, 0.22), (0.48, 0.7), (0.35, 0.5), _DARKS, "plain", "monitor"),
    "laptop": _c("laptop", (0.22, 0.26), (0.3, 0.38), (0.2, 0.25), _DARKS + ((0.7, 0.7, 0.72),), "plain", "laptop"),
    "book": _c("book", (0.18, 0.28), (0.13, 0.2), (0.025, 0.05),
               ((0.7, 0.15, 0.12), (0.15, 0.3, 0.6), (0.85, 0.7, 0.2), (0.2, 0.5, 0.3), (0.9, 0.9, 0.88)), "plain"),
    "cup": _c("cup", (0.07, 0.1), (0, 0), (0.08, 0.12), ((0.92, 0.92, 0.9), (0.75, 0.2, 0.18), (0.2, 0.35, 0.6)),
              "plain", square=True),
    "bottle": _c("bottle", (0.06, 0.09), (0, 0), (0.18, 0.32), ((0.2, 0.5, 0.3), (0.55, 0.75, 0.85), (0.5, 0.25, 0.1)),
                 "plain", square=True),
    "microwave": _c("microwave", (0.32, 0.4), (0.45, 0.55), (0.26, 0.32), _DARKS + _LIGHTS, "plain"),
}

LABELS = tuple(sorted({c.label for c in KINDS.values()}))
