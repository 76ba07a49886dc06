"""`model`: the trained SSR model, end to end (PyTorch reference backend; needs the train extra).

The model reads each scan in keyframe windows and writes the scene graph (boxes, triplets), which the
C++ core parses and merges (`ssr_runtime.model.inference`). Each question is then put to the model
over the graph text. Variants (`--variant`):
- `scaffold` (default): the model writes its scaffold — a LocalCogMap and a `<q>` query program — and
  the C++ query engine runs that program on the model's graph (its own `<ans>` when the program is
  missing or cannot run);
- `scaffold-lm`: the model's own `<ans>` after its scaffold;
- `direct`: the model's `<ans>` with no scaffold (the ablation).
The question's annotated `query` is never used: the model parses the question itself.
"""

from __future__ import annotations

from pathlib import Path

from ssr_runtime import _core
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.records import Question
from ssr_runtime.eval.structured import GraphMethod
from ssr_runtime.runtime.session import engine_answer, model_answer

VARIANTS = ("scaffold", "scaffold-lm", "direct")


class ModelMethod(GraphMethod):
    name = "model"

    def __init__(self, checkpoint: Path, variant: str):
        from ssr_runtime.model import load_checkpoint
        from ssr_runtime.model.inference import TorchReader

        model, tokenizer = load_checkpoint(checkpoint)
        self.reader = TorchReader(model, tokenizer)
        self.variant = variant

    def build_graph(self, scene: Scene, scene_dir: Path) -> _core.SceneGraph:
        return self.reader.read(list(iter_scene_frames(scene_dir, with_instance=False)))

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        """The same mapping as the runtime's Session.ask (engine first, then the model's <ans>)."""
        _, elements = self.reader.answer(self.graph, question, scaffold=self.variant != "direct")
        if self.variant == "scaffold":
            from_engine = engine_answer(self.graph, elements, question.options or ())
            if from_engine is not None:
                return from_engine[0]
        own = model_answer(elements)
        return own[0] if own is not None else ""


def create(options: MethodOptions) -> Method:
    if options.checkpoint is None:
        raise ValueError("method model: --checkpoint is required (a folder written by `ssr train`)")
    variant = options.variant or "scaffold"
    if variant not in VARIANTS:
        raise ValueError(f"method model: --variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    return ModelMethod(options.checkpoint, variant)
