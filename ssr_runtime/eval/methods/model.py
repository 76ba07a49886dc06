"""`model`: the trained SSR model, end to end, on the PyTorch reference backends (needs the train extra).

The same `Session` as the `runtime` method, on the checkpoint's torch encoder and language model
(`torch_backends.checkpoint_bundle`): it reads each scan in keyframe windows, writing the scene graph
under the window grammar, and answers each question over the graph text under the scaffold grammar.
The two methods differ only in their backends, so their scores compare the export, not the decoding.
Variants (`--variant`):
- `scaffold` (default): the model writes its scaffold — a LocalCogMap and a `<q>` query program — and
  the C++ query engine runs that program on the model's graph (its own `<ans>` when the program
  cannot run);
- `scaffold-lm`: the model's own `<ans>` after its scaffold;
- `direct`: the model's `<ans>` with no scaffold (the ablation).
The question's annotated `query` is never used: the model parses the question itself.
"""

from __future__ import annotations

from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.methods.runtime import SessionMethod

VARIANTS = ("scaffold", "scaffold-lm", "direct")


class ModelMethod(SessionMethod):
    name = "model"


def create(options: MethodOptions) -> Method:
    if options.checkpoint is None:
        raise ValueError("method model: --checkpoint is required (a folder written by `ssr train`)")
    variant = options.variant or "scaffold"
    if variant not in VARIANTS:
        raise ValueError(f"method model: --variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    from ssr_runtime.runtime.torch_backends import checkpoint_bundle

    return ModelMethod(checkpoint_bundle(options.checkpoint), variant)
