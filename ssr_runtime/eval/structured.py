"""Answering benchmark questions from a scene graph with the C++ query engine.

Shared by every structured method (oracle, geometric, the model's own graph): the question's
`query` runs on the graph, and the result becomes the text a model would write — a number, or the
letter of the option whose text matches the engine's answer.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

from ssr_runtime import _core
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method
from ssr_runtime.eval.questions import display_name
from ssr_runtime.eval.records import Question


class GraphMethod(Method):
    """A method that builds one scene graph per scene and answers every question from it."""

    @abstractmethod
    def build_graph(self, scene: Scene, scene_dir: Path) -> _core.SceneGraph:
        """The scene graph this method makes of the scene."""

    def setup(self, scene: Scene, scene_dir: Path) -> None:
        self.graph = self.build_graph(scene, scene_dir)

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        return answer_from_graph(self.graph, question)

    def teardown(self, scene: Scene, scene_dir: Path) -> None:
        self.graph = None


def ground_truth_graph(scene: Scene) -> _core.SceneGraph:
    """The scene's annotated objects and room outline as a scene graph (objects never seen in the
    scan count as first seen after its last frame)."""
    graph = _core.SceneGraph()
    never_seen_t = max((f.t for f in scene.frames), default=0.0) + 1.0
    for obj in scene.objects:
        seen = never_seen_t if obj.first_seen_t is None else obj.first_seen_t
        box = _core.Box3D(obj.box.center, obj.box.size, obj.box.yaw)
        graph.add_object(_core.Object(obj.label, box, id=obj.id, first_seen=seen, last_seen=seen))
    graph.room_polygon = [tuple(p) for p in scene.room.polygon]
    return graph


def engine_args(question: Question) -> list[str]:
    """The question's labels in the argument order of the query engine (docs/QUERIES.md).

    A benchmark route lists its stops [start, first stop, ..., end] and the walker starts facing
    the first stop; the engine takes `start facing waypoints...`, so the first stop is both."""
    args = list(question.query["args"])
    if question.question_type == "route_planning":
        return [args[0], args[1], *args[1:]]
    return args


def choice_text(question: Question, result: _core.QueryResult) -> str:
    """The option text that the engine's result stands for, spelled as the benchmark spells it."""
    return engine_choice_text(question.question_type, result.choice)


def engine_choice_text(task: str, choice: str) -> str:
    """An engine choice of task `task` spelled as the benchmark's options spell it."""
    if task == "route_planning":
        # The first turn is the one at the start, where the walker already faces the first stop.
        return ", ".join(choice.split(", ")[1:])
    if task in ("object_rel_distance", "obj_appearance_order"):
        return ", ".join(display_name(label) for label in choice.split(", "))
    return choice


def answer_from_graph(graph: _core.SceneGraph, question: Question) -> str:
    """The answer text for `question` from `graph`; an empty string when the graph cannot answer
    it (a missing or ambiguous referent), which the metrics score as wrong."""
    try:
        result = _core.run_query(graph, _core.Query(question.question_type, engine_args(question)))
    except _core.QueryError:
        return ""
    if result.is_number:
        return f"{result.value:.4g}"
    return question.letter_of(choice_text(question, result)) or ""
