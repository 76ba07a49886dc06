"""`runtime`: the exported model through the streaming runtime (`ssr_runtime.Session`): the encoder
"auto" (the export's TensorRT engine where it loads here, else ONNX Runtime), the language model on
llama.cpp. `--checkpoint` names an export folder (`ssr export`; default: the shipped model);
`--variant` a language-model file of it (default: the Q8_0 GGUF; `lm.onnx` runs the language model on
ONNX Runtime). Each scene gets a fresh session that streams every frame, then answers the scene's
questions. `SessionMethod` is shared with `model`, which runs the same Session on the torch backends."""

from __future__ import annotations

from pathlib import Path

from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.records import Question
from ssr_runtime.runtime.merge import parse_lines


class SessionMethod(Method):
    """A method that streams each scene through a `Session` over one loaded `Bundle` and asks it the
    scene's questions. `answer_from`: 'scaffold' (the Session's answer: the engine running the model's
    program, else the model's own), 'scaffold-lm' (the model's own `<ans>` after its scaffold) or
    'direct' (the model's `<ans>` with no scaffold)."""

    def __init__(self, bundle, answer_from: str = "scaffold"):
        self.bundle = bundle  # backends open once per run
        self.answer_from = answer_from
        self.session = None

    def setup(self, scene: Scene, scene_dir: Path) -> None:
        from ssr_runtime.runtime.session import Session

        self.session = Session(self.bundle)
        self.session.push_frames(iter_scene_frames(scene_dir, with_instance=False))

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        from ssr_runtime.runtime.session import model_answer

        answer = self.session.ask(question.question, question.options, scaffold=self.answer_from != "direct")
        if self.answer_from == "scaffold":
            return answer.text
        own = model_answer(parse_lines(answer.raw)[0])
        return own[0] if own is not None else ""

    def teardown(self, scene: Scene, scene_dir: Path) -> None:
        self.session = None


class RuntimeMethod(SessionMethod):
    name = "runtime"


def create(options: MethodOptions) -> Method:
    from ssr_runtime.runtime.bundle import load_bundle
    from ssr_runtime.runtime.session import DEFAULT_MODEL

    return RuntimeMethod(load_bundle(options.checkpoint or DEFAULT_MODEL, lm_file=options.variant))
