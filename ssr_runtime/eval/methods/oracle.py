"""`oracle`: the ground-truth boxes answered by the C++ query engine.

An upper bound that should score (nearly) 100: anything less is a disagreement between the question
generator (Python, docs/BENCHMARK.md) and the query engine (C++, docs/QUERIES.md), or a metric bug.
"""

from __future__ import annotations

from pathlib import Path

from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.records import Question
from ssr_runtime.eval.structured import answer_from_graph, ground_truth_graph


class Oracle(Method):
    name = "oracle"

    def setup(self, scene: Scene, scene_dir: Path) -> None:
        self.graph = ground_truth_graph(scene)

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        return answer_from_graph(self.graph, question)

    def teardown(self, scene: Scene, scene_dir: Path) -> None:
        self.graph = None


def create(options: MethodOptions) -> Method:
    del options
    return Oracle()
