"""`runtime`: the exported model through the streaming runtime (`ssr_runtime.Session`): the encoder
"auto" (the export's TensorRT engine where it loads here, else ONNX Runtime), the language model on
llama.cpp. `--checkpoint` names an export folder (`ssr export`; default: the shipped model);
`--variant` a language-model file of it (default: the Q8_0 GGUF; `lm.onnx` runs the language model on
ONNX Runtime). Each scene gets a fresh session that
streams every frame, then answers the scene's questions."""

from __future__ import annotations

from pathlib import Path

from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.records import Question


class RuntimeMethod(Method):
    name = "runtime"

    def __init__(self, model: Path | None, lm_file: str | None):
        from ssr_runtime.runtime.bundle import load_bundle
        from ssr_runtime.runtime.session import DEFAULT_MODEL

        self.bundle = load_bundle(model or DEFAULT_MODEL, lm_file=lm_file)  # backends open once per run
        self.session = None

    def setup(self, scene: Scene, scene_dir: Path) -> None:
        from ssr_runtime.runtime.session import Session

        self.session = Session(self.bundle)
        self.session.push_frames(iter_scene_frames(scene_dir, with_instance=False))

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        return self.session.ask(question.question, question.options).text

    def teardown(self, scene: Scene, scene_dir: Path) -> None:
        self.session = None


def create(options: MethodOptions) -> Method:
    return RuntimeMethod(options.checkpoint, options.variant)
