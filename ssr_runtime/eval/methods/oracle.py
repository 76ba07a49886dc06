"""`oracle`: the ground-truth boxes answered by the C++ query engine.

An upper bound that should score (nearly) 100: anything less is a disagreement between the question
generator (Python, docs/BENCHMARK.md) and the query engine (C++, docs/QUERIES.md), or a metric bug.
"""

from __future__ import annotations

from pathlib import Path

from ssr_runtime import _core
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.structured import GraphMethod, ground_truth_graph


class Oracle(GraphMethod):
    name = "oracle"

    def build_graph(self, scene: Scene, scene_dir: Path) -> _core.SceneGraph:
        return ground_truth_graph(scene)


def create(options: MethodOptions) -> Method:
    del options
    return Oracle()
