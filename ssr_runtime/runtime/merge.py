"""Turning a window's model output into scene-graph updates (torch-free: every backend shares it).

The model writes one element per line in the window's local ids (`training.samples.window_names`).
Each well-formed <box> line becomes a detection that the C++ core merges into the graph by label and
geometry; each <tri> line from a new object to an object of the window is kept; new objects left
without one are attached as training attached them (`SceneGraph.attach` to the window's context).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ssr_runtime import _core

ORDER_STEP_S = 1e-3  # objects of one window keep the order the model wrote them in (time order)


@dataclass
class ReadStats:
    windows: int = 0
    lines: int = 0
    bad_lines: int = 0  # lines the strict parser rejected, or that did not fit the graph
    outputs: list[str] = field(default_factory=list)


def parse_lines(text: str) -> tuple[list, int]:
    """The well-formed elements of `text`, one line at a time, and the number of bad lines."""
    elements, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            elements.extend(_core.parse_document(line))
        except _core.ParseError:
            bad += 1
    return elements, bad


def merge_window(graph: _core.SceneGraph, text: str, t: float, names: dict[str, str], merge: _core.MergeParams,
                 stats: ReadStats, ground: Callable[[list], list] | None = None) -> list[str]:
    """Merge one window's output (written under `names`: graph id → window id) into `graph` at time
    `t`, its parsed elements passed through `ground` first (runtime.grounding); returns the ids of the
    objects it created."""
    elements, bad = parse_lines(text)
    stats.windows += 1
    stats.lines += len(elements) + bad  # the model's lines, before grounding adds any
    stats.bad_lines += bad
    if ground is not None:
        elements = ground(elements)
    in_window = {name: oid for oid, name in names.items()}
    known = {o.id for o in graph.objects}
    created: list[str] = []
    for k, element in enumerate(e for e in elements if isinstance(e, _core.BoxText)):
        label = element.id.split("#")[0]
        merged = graph.merge(_core.Detection(label, element.box, 1.0, t + k * ORDER_STEP_S), merge)
        in_window[element.id] = merged
        if merged not in known:
            created.append(merged)
            known.add(merged)
    attached = set()
    for element in elements:
        if not isinstance(element, _core.Triplet):
            continue
        subject, obj = in_window.get(element.subject), in_window.get(element.object)
        if subject in created and subject not in attached and obj is not None and obj != subject:
            graph.add_triplet(_core.Triplet(subject, element.predicate, obj, element.offset))
            attached.add(subject)
        else:
            stats.bad_lines += 1
    graph.attach([oid for oid in created if oid not in attached], list(names))
    return created
