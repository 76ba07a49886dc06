"""`runtime`: the exported model through the streaming runtime (`ssr_runtime.Session`): the encoder
"auto" (the export's TensorRT engine where it loads here, else ONNX Runtime), the language model on
llama.cpp. `--checkpoint` names an export folder (`ssr export`; default: the shipped model);
`--variant` an answer mode (`scaffold`, the default, `own`, `engine`, `direct` or `greedy`, as for
`model`), a language-model file of the export (default: the Q8_0 GGUF; `lm.onnx` runs the language
model on ONNX Runtime), `grounded` or `plain` (sessions that do or do not ground the graph in the
encoder's heads, runtime.grounding; neither: they do when the export has the heads, as Session does),
or several joined by commas (`direct,lm-f16.gguf`, `plain,lm-f16.gguf`). Each scene gets a fresh
session that streams every frame, then answers the scene's questions. `SessionMethod` is shared with
`model`, which runs the same Session on the torch backends."""

from __future__ import annotations

from pathlib import Path

from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.records import Question


class SessionMethod(Method):
    """A method that streams each scene through a `Session` over one loaded `Bundle` and asks it the
    scene's questions. `answer_from`: 'scaffold' (the Session's answer: the engine's result of the
    model's program where it is conclusive, else the model's `<ans>` written after reading that
    result), 'own' (the model's `<ans>` after the result, always: does the model use it?), 'engine'
    (the result alone, wrong where the program cannot run), 'direct' (the model's `<ans>` with no
    scaffold) or 'greedy' (as 'scaffold', numbers decoded greedily: the ablation of
    runtime.numbers)."""

    def __init__(self, bundle, answer_from: str = "scaffold", grounding: bool | None = None):
        if grounding:
            bundle.grounding_heads()  # refused before the first scene, not in it
        self.bundle = bundle  # backends open once per run
        self.answer_from = answer_from
        self.grounding = grounding
        self.session = None

    def setup(self, scene: Scene, scene_dir: Path) -> None:
        from ssr_runtime.runtime.session import Session

        self.session = Session(self.bundle, grounding=self.grounding)
        self.session.push_frames(iter_scene_frames(scene_dir, with_instance=False))

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        answer = self.session.ask(question.question, question.options, scaffold=self.answer_from != "direct",
                                  greedy_numbers=self.answer_from == "greedy")
        return {"own": answer.own, "engine": answer.engine}.get(self.answer_from, answer.text)

    def teardown(self, scene: Scene, scene_dir: Path) -> None:
        self.session = None


ANSWER_MODES = ("scaffold", "own", "engine", "direct", "greedy")


class RuntimeMethod(SessionMethod):
    name = "runtime"


GROUNDING = {"grounded": True, "plain": False}  # variants: sessions that do / do not ground (runtime.grounding)


def split_variant(variant: str | None) -> tuple[str, str | None, bool | None]:
    """(answer mode, language-model file or None, grounding: True, False or None = as Session decides)
    of a runtime `--variant`."""
    parts = [part.strip() for part in (variant or "").split(",") if part.strip()]
    modes = [part for part in parts if part in ANSWER_MODES]
    grounding = [GROUNDING[part] for part in parts if part in GROUNDING]
    files = [part for part in parts if part not in ANSWER_MODES and part not in GROUNDING]
    if len(modes) > 1 or len(files) > 1 or len(grounding) > 1:
        raise ValueError(f"method runtime: --variant takes at most one answer mode ({', '.join(ANSWER_MODES)}), "
                         f"one language-model file and one of {', '.join(GROUNDING)}, got {variant!r}")
    return (modes[0] if modes else "scaffold"), (files[0] if files else None), (grounding[0] if grounding else None)


def create(options: MethodOptions) -> Method:
    from ssr_runtime.runtime.bundle import load_bundle
    from ssr_runtime.runtime.session import DEFAULT_MODEL

    mode, lm_file, grounded = split_variant(options.variant)
    return RuntimeMethod(load_bundle(options.checkpoint or DEFAULT_MODEL, lm_file=lm_file), mode, grounded)
