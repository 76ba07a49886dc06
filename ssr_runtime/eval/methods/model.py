"""`model`: the trained SSR model, end to end, on the PyTorch reference backends (needs the train extra).

The same `Session` as the `runtime` method, on the checkpoint's torch encoder and language model
(`torch_backends.checkpoint_bundle`): it reads each scan in keyframe windows, writing the scene graph
under the window grammar, and answers each question over the graph text under the scaffold grammar.
The two methods differ only in their backends, so their scores compare the export, not the decoding.
Variants (`--variant`):
- `scaffold` (default): the model writes its scaffold — a LocalCogMap and a `<q>` query program — the
  C++ query engine runs that program on the model's graph, the runtime feeds the result back as a
  `<res>` line and the model writes its own `<ans>`; the result answers where it is conclusive (every
  object the program names is in the graph, and it is no count), the model's `<ans>` elsewhere;
- `own`: the model's `<ans>` after the `<res>`, always (whether the model uses the result itself);
- `engine`: that `<res>` alone (the program's result; wrong where it cannot run);
- `direct`: the model's `<ans>` with no scaffold (the ablation);
- `greedy`: as `scaffold`, with numbers decoded greedily instead of by expected score (the ablation
  of `runtime/numbers.py`);
- `grounded` or `plain`, alone or with a mode (`plain,own`): sessions that do or do not ground the
  graph in the encoder's heads on torch (runtime.grounding; neither: they do when the model has both
  heads, as Session does).
The question's annotated `query` is never used: the model parses the question itself (its program
may name only the labels the question's text mentions: `questions.mentioned_labels`).
"""

from __future__ import annotations

from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.methods.runtime import ANSWER_MODES, GROUNDING, SessionMethod, split_variant


class ModelMethod(SessionMethod):
    name = "model"


def create(options: MethodOptions) -> Method:
    if options.checkpoint is None:
        raise ValueError("method model: --checkpoint is required (a folder written by `ssr train`)")
    mode, lm_file, grounded = split_variant(options.variant)
    if lm_file is not None:
        raise ValueError(f"method model: --variant takes an answer mode ({', '.join(ANSWER_MODES)}) and one of "
                         f"{', '.join(GROUNDING)}, got {options.variant!r}")
    from ssr_runtime.runtime.torch_backends import checkpoint_bundle

    return ModelMethod(checkpoint_bundle(options.checkpoint), mode, grounded)
