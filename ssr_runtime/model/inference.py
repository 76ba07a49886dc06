"""Reading a scan and answering questions with the PyTorch model (the reference backend).

Streaming, as the runtime does it: keyframes are grouped into windows; for each window the model
reads the graph so far (text) and the window's frames (fused tokens) and writes the new objects'
boxes and triplets; the C++ core parses them line by line (a malformed line is skipped and counted)
and merges the boxes into the session graph by label and geometry. Questions are then answered over
the graph text: with the scaffold (LocalCogMap + query program + answer) or directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ssr_runtime import _core
from ssr_runtime.data.readers import RGBDFrame
from ssr_runtime.eval.records import Question
from ssr_runtime.model.modeling import SSRModel, frame_tensors
from ssr_runtime.preprocess import FrameBatch, frame_inputs
from ssr_runtime.reconstruct import frame_rays, room_outline
from ssr_runtime.training.samples import (DIRECT_MARK, NEW_MARK, SCAFFOLD_MARK, graph_text, keyframes,
                                          known_text, stage1_prompt, stage2_prompt, windows)

MAX_NEW_TOKENS_WINDOW = 384
MAX_NEW_TOKENS_ANSWER = 160
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


class TorchReader:
    """Builds a scene graph from posed RGB-D frames with an `SSRModel` (CPU or CUDA)."""

    def __init__(self, model: SSRModel, tokenizer, merge: _core.MergeParams | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.merge = merge or _core.MergeParams()
        self.device = next(model.parameters()).device

    def _ids(self, text: str) -> torch.Tensor:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return torch.tensor(ids, dtype=torch.long, device=self.device)

    def read(self, frames: Sequence[RGBDFrame], stats: ReadStats | None = None) -> _core.SceneGraph:
        stats = stats if stats is not None else ReadStats()
        graph = _core.SceneGraph()
        picked = keyframes(frames)
        inputs = FrameBatch.stack([frame_inputs(frames[i].rgb, frames[i].depth, frames[i].K, frames[i].T_wc)
                                   for i in picked])
        per_frame = self.model.config.tokens_per_frame
        for window in windows(range(len(picked))):
            prompt = stage1_prompt(known_text(graph), len(window), per_frame, NEW_MARK)
            pixels, geometry, pose = frame_tensors(inputs.select(window), self.device)
            text = self.model.generate_text(self.tokenizer, self._ids(prompt), pixels, geometry, pose,
                                            max_new_tokens=MAX_NEW_TOKENS_WINDOW)
            stats.windows += 1
            stats.outputs.append(text)
            self._merge(graph, text, frames[picked[window[0]]].t, stats)
        graph.room_polygon = room_outline([frame_rays(f) for f in frames])
        return graph

    def _merge(self, graph: _core.SceneGraph, text: str, t: float, stats: ReadStats) -> None:
        elements, bad = parse_lines(text)
        stats.lines += len(elements) + bad
        stats.bad_lines += bad
        id_map: dict[str, str] = {}
        known = {o.id for o in graph.objects}
        created: set[str] = set()
        for k, element in enumerate(e for e in elements if isinstance(e, _core.BoxText)):
            label = element.id.split("#")[0]
            merged = graph.merge(_core.Detection(label, element.box, 1.0, t + k * ORDER_STEP_S), self.merge)
            id_map[element.id] = merged
            if merged not in known:
                created.add(merged)
                known.add(merged)
        for element in elements:
            if not isinstance(element, _core.Triplet):
                continue
            subject = id_map.get(element.subject)
            obj = id_map.get(element.object, element.object)
            if subject in created and graph.has_object(obj) and subject != obj:
                graph.add_triplet(_core.Triplet(subject, element.predicate, obj, element.offset))
            else:
                stats.bad_lines += 1

    def answer(self, graph: _core.SceneGraph, question: Question, scaffold: bool) -> tuple[str, list]:
        """The model's text after the question, and its parsed elements."""
        prompt = stage2_prompt(graph_text(graph), question, SCAFFOLD_MARK if scaffold else DIRECT_MARK)
        text = self.model.generate_text(self.tokenizer, self._ids(prompt), max_new_tokens=MAX_NEW_TOKENS_ANSWER)
        return text, parse_lines(text)[0]
