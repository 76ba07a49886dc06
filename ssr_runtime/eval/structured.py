"""Answering benchmark questions from a scene graph with the C++ query engine.

Shared by every structured method (oracle, geometric, the model's own graph): the question's
`query` runs on the graph, and the result becomes the text a model would write — a number, or the
letter of the option whose text matches the engine's answer.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
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


# --- a program's result, as the runtime feeds it back to the model -----------------------------------

OPTION_PATTERN = re.compile(r"^([A-Z])\. (.+)$")


@dataclass(frozen=True)
class ProgramResult:
    """What the C++ engine made of a `<q>` program: `text` is a number (canonical, two decimals) or an
    option letter (the option text itself without options); `evidence` the ids it rests on;
    `conclusive`: no object the graph may lack can change it: every label the program names has an
    object in the graph (a count of a label the graph lacks is 0, which says nothing about a room the
    question says holds it), and the program is no count (a graph that misses objects undercounts)."""

    text: str
    value: float | None
    unit: str
    choice: str | None
    evidence: tuple[str, ...]
    conclusive: bool


# How many of a program's labels, from the first, name a unique object (docs/QUERIES.md, "Unique
# referents"); a relative distance's candidates and an appearance order's labels may name several.
UNIQUE_LEADING_LABELS = {"object_abs_distance": None, "object_size_estimation": None, "object_rel_distance": 1,
                         "object_rel_direction_easy": None, "object_rel_direction_medium": None,
                         "object_rel_direction_hard": None, "route_planning": None}


def most_observed_referents(graph: _core.SceneGraph, query: _core.Query) -> _core.SceneGraph:
    """A copy of `graph` in which each label the program needs to name a unique object
    (UNIQUE_LEADING_LABELS), when several objects carry it, keeps only its most observed one (then
    the most confident, then the first). A question names such objects once in its room (VSI-Bench's
    rule), so a graph holding two is wrong about one; the one seen in more windows is the likelier.
    Grounded sessions need it: sightings from several views leave duplicates."""
    resolved = _core.SceneGraph.from_json(graph.to_json())
    if query.task not in UNIQUE_LEADING_LABELS:
        return resolved
    for label in dict.fromkeys(query.args[:UNIQUE_LEADING_LABELS[query.task]]):
        objects = resolved.objects_with_label(label)
        keep = max(objects, key=lambda o: (o.observations, o.confidence), default=None)
        for o in objects:
            if o.id != keep.id:
                resolved.remove_object(o.id)
    return resolved


def run_program(graph: _core.SceneGraph, query: _core.Query, options: Sequence[str] = ()) -> ProgramResult | None:
    """`query` run on `graph`; None when it cannot run (an object it names is missing or ambiguous)
    or, with `options`, when it gives a number or a choice that is not one of them."""
    try:
        result = _core.run_query(graph, query)
    except (_core.QueryError, _core.InvalidInputError):
        return None
    evidence = tuple(result.evidence)
    conclusive = query.task != "object_counting" and all(graph.objects_with_label(label) for label in query.args)
    if result.is_number:
        if options:
            return None
        text = _core.format_answer(_core.Answer(value=result.value)).split()[1]
        return ProgramResult(text, result.value, result.unit, None, evidence, conclusive)
    choice = engine_choice_text(query.task, result.choice)
    if not options:
        return ProgramResult(choice, None, "", choice, evidence, conclusive)
    letters = {m.group(2).strip().lower(): m.group(1) for m in map(OPTION_PATTERN.match, options) if m}
    if choice.lower() not in letters:
        return None
    return ProgramResult(letters[choice.lower()], None, "", choice, evidence, conclusive)


def result_line(result: ProgramResult | None) -> str:
    """The `<res>` line the runtime writes after the model's `<q>`, before the model's own `<ans>`
    (docs/FORMATS.md): the number with its unit, or the option letter; `<res> none </res>` when the
    program could not run (or, without options, gave a choice, which no letter names)."""
    if result is None or (result.value is None and result.text == result.choice):
        return _core.format_result(_core.EngineResult())
    if result.value is None:
        return _core.format_result(_core.EngineResult(_core.Answer(choice=result.text)))
    return _core.format_result(_core.EngineResult(_core.Answer(value=result.value, unit=result.unit)))
