"""`geometric`: ground-truth instance masks + depth + poses -> C++ geometry -> query engine.

A perception-free reference for the model: objects are found by their masks (and labelled by the
annotation of their instance id), but where they are, how big they are, when they first appear and
the room's outline all come from the scan's depth (see `ssr_runtime.reconstruct`).
"""

from __future__ import annotations

from pathlib import Path

from ssr_runtime import _core
from ssr_runtime.data.generate import first_seen_min_pixels
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.structured import GraphMethod
from ssr_runtime.reconstruct import reconstruct_scene


class Geometric(GraphMethod):
    name = "geometric"

    def build_graph(self, scene: Scene, scene_dir: Path) -> _core.SceneGraph:
        labels = {obj.instance_id: obj.label for obj in scene.objects}
        min_pixels = first_seen_min_pixels(scene.camera.width, scene.camera.height)
        return reconstruct_scene(iter_scene_frames(scene_dir), labels, min_pixels)


def create(options: MethodOptions) -> Method:
    del options
    return Geometric()
