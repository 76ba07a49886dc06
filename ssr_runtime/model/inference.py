"""Reading a scan and answering questions with the PyTorch model (the reference backend).

Streaming, as the runtime does it: keyframes are grouped into windows; for each window the model
reads the graph so far (text) and the window's frames (fused tokens) and writes the new objects'
boxes and triplets; the C++ core parses them line by line (a malformed line is skipped and counted)
and merges the boxes into the session graph by label and geometry. Questions are then answered over
the graph text: with the scaffold (LocalCogMap + query program + answer) or directly.
"""

from __future__ import annotations

from collections.abc import Sequence
import torch

from ssr_runtime import _core
from ssr_runtime.data.readers import RGBDFrame
from ssr_runtime.eval.records import Question
from ssr_runtime.model.modeling import SSRModel, frame_tensors
from ssr_runtime.preprocess import FrameBatch, frame_inputs
from ssr_runtime.runtime.merge import ReadStats, merge_window, parse_lines
from ssr_runtime.reconstruct import frame_rays, room_outline
from ssr_runtime.training.samples import (DIRECT_MARK, MAX_NEW_TOKENS_ANSWER, MAX_NEW_TOKENS_WINDOW, NEW_MARK,
                                          SCAFFOLD_MARK, keyframes, known_text, local_object_ids, renamed,
                                          stage1_prompt, stage2_prompt, window_names, windows)



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
            batch = inputs.select(window)
            context = local_object_ids(graph, batch.geometry)
            names = window_names(graph, context)
            prompt = stage1_prompt(known_text(renamed(graph, names), names.values()), len(window), per_frame, NEW_MARK)
            pixels, geometry, pose = frame_tensors(batch, self.device)
            text = self.model.generate_text(self.tokenizer, self._ids(prompt), pixels, geometry, pose,
                                            max_new_tokens=MAX_NEW_TOKENS_WINDOW)
            stats.outputs.append(text)
            merge_window(graph, text, frames[picked[window[0]]].t, names, self.merge, stats)
        graph.room_polygon = room_outline([frame_rays(frames[i]) for i in picked])  # keyframes, as the Session
        return graph

    def answer(self, graph: _core.SceneGraph, question: Question, scaffold: bool) -> tuple[str, list]:
        """The model's text after the question, and its parsed elements."""
        prompt = stage2_prompt(graph, question.prompt, SCAFFOLD_MARK if scaffold else DIRECT_MARK)
        text = self.model.generate_text(self.tokenizer, self._ids(prompt), max_new_tokens=MAX_NEW_TOKENS_ANSWER)
        return text, parse_lines(text)[0]
