"""Loading an exported model folder (`ssr export`) for the runtime: the manifest is checked first, so a
missing, truncated or modified file is refused before any backend opens it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from ssr_runtime.export.manifest import verify_manifest

TOKENIZER_FILE = "tokenizer.json"
PREFERRED_LM_TYPES = ("q8_0", "f16", "q4_k_m", "q4_0", "f32")
ONNX_LM_FILE = "lm.onnx"  # what `ssr export --onnx-lm` writes (export/onnx_lm.py, which needs Optimum)
# Encoder backends by name. "auto": the export's TensorRT engine where it loads (TensorRT, a GPU, and
# the GPU kind and TensorRT version that built it), else "onnx". "onnx": ONNX Runtime with its best
# provider (TensorRT > CUDA > CPU); "onnx-<x>": that provider (with the CPU for operators it lacks);
# "tensorrt": the engine of `ssr export --tensorrt`.
ONNX_PROVIDERS = {"onnx-cpu": "CPUExecutionProvider", "onnx-cuda": "CUDAExecutionProvider",
                  "onnx-tensorrt": "TensorrtExecutionProvider"}
ENCODER_BACKENDS = ("auto", "tensorrt", "onnx", *ONNX_PROVIDERS)


@dataclass(frozen=True)
class ModelInfo:
    """What the runtime needs of the model's config (read from the manifest, without torch)."""

    tokens_per_frame: int
    hidden_size: int
    vis_token_id: int
    eos_token_id: int
    max_position_embeddings: int

    @classmethod
    def from_manifest(cls, manifest: dict) -> ModelInfo:
        config = manifest["config"]
        _, tokens_per_frame, hidden = manifest["encoder"]["outputs"]["tokens"]
        return cls(int(tokens_per_frame), int(hidden), int(config["vis_token_id"]), int(config["eos_token_id"]),
                   int(config["max_position_embeddings"]))


@dataclass
class Bundle:
    folder: Path
    manifest: dict  # the export's manifest; empty for a checkpoint (torch_backends.checkpoint_bundle)
    config: ModelInfo
    tokenizer: object  # tokenizers.Tokenizer
    encoder: object  # encode(pixels, geometry, pose) -> [N, tokens_per_frame, hidden]
    lm: object  # prefill / generate / truncate / reset
    _grounding: object | None = None  # grounding_heads(), once opened

    @property
    def has_grounding_heads(self) -> bool:
        """Whether `grounding_heads` can open: an export with grounding.onnx, a checkpoint with both heads."""
        return self._grounding is not None or "grounding" in self.manifest

    def grounding_heads(self):
        """The export's grounding heads on ONNX Runtime (runtime.grounding.OnnxGrounding), opened on first
        use, so sessions that do not ground never load them; a ValueError naming the folder when the
        export has none."""
        if self._grounding is None:  # a checkpoint's torch heads are given (torch_backends.checkpoint_bundle)
            entry = self.manifest.get("grounding")
            if entry is None:
                raise ValueError(f"grounding: {self.folder} has no grounding heads (grounding.onnx); export a "
                                 "checkpoint with a patch head and a position head again (`ssr export`)")
            from ssr_runtime.runtime.grounding import OnnxGrounding

            self._grounding = OnnxGrounding(self.folder / entry["file"], entry["labels"], entry["sizes"])
        return self._grounding


def lm_files(manifest: dict) -> dict[str, str]:
    """{GGUF type: file name} of an export manifest."""
    return {q["produced"]: q["file"] for q in manifest["language_model"]["quantizations"]}


def onnx_lm_file(manifest: dict) -> str | None:
    """The file name of the language model exported through Optimum (`ssr export --onnx-lm`), if any."""
    onnx = manifest["language_model"].get("onnx")
    return onnx["file"] if onnx else None


def grammar_gguf(folder: Path, manifest: dict) -> str:
    """The export's preferred GGUF (first of PREFERRED_LM_TYPES): the default language model, and the
    vocabulary of the grammars of backends that are not llama.cpp (ONNX, torch)."""
    files = lm_files(manifest)
    ggufs = [files[t] for t in PREFERRED_LM_TYPES if t in files] + sorted(files.values())
    if not ggufs:
        raise ValueError(f"{folder}: no GGUF language model in this export; one is needed even for "
                         f"{ONNX_LM_FILE} (its grammars use the GGUF's vocabulary)")
    return ggufs[0]


def open_lm(folder: Path, manifest: dict, config: ModelInfo, lm_file: str | None = None, threads: int = 1):
    """The language-model backend on `lm_file` of the export in `folder` (manifest already verified):
    LlamaCppLM for a GGUF (default: the first of PREFERRED_LM_TYPES the folder has), OnnxLM for the
    ONNX file (`lm.onnx`; its grammars use the preferred GGUF's vocabulary, so a GGUF is needed either way)."""
    files = lm_files(manifest)
    preferred = grammar_gguf(folder, manifest)
    onnx_file = onnx_lm_file(manifest)
    lm_file = lm_file or preferred
    choices = sorted(files.values()) + ([onnx_file] if onnx_file else [])
    if lm_file not in choices:
        hint = "; this export has no ONNX language model: re-export with `ssr export --onnx-lm`" \
            if lm_file == ONNX_LM_FILE else ""
        raise ValueError(f"{folder}: lm_file: expected one of {choices}, got {lm_file!r}{hint}")
    if lm_file == onnx_file:
        from ssr_runtime.runtime.onnx_lm import OnnxLM

        embeddings = manifest["language_model"]["onnx"]["embeddings"]
        return OnnxLM(folder / onnx_file, folder / embeddings, config.eos_token_id, config.max_position_embeddings,
                      grammar_vocab=folder / preferred, threads=threads)
    from ssr_runtime.runtime.llama_lm import LlamaCppLM

    return LlamaCppLM(folder / lm_file, n_ctx=config.max_position_embeddings, threads=threads)


def open_encoder(folder: Path, manifest: dict, backend: str = "auto", threads: int = 1):
    """The encoder backend named `backend` (ENCODER_BACKENDS) on the files of an export folder.

    A backend this machine cannot run raises BackendUnavailableError naming what is missing (no
    `tensorrt` module, no CUDA device, no such provider in this onnxruntime, an export without an
    engine); "auto" never does for the engine: where the engine cannot run (TensorRT or a GPU missing, or
    an engine this GPU or TensorRT version cannot load: a warning) it falls back to "onnx".
    """
    from ssr_runtime.runtime.encoders import OnnxEncoder, with_cpu_fallback
    from ssr_runtime.runtime.errors import BackendUnavailableError, ModelFileError
    from ssr_runtime.runtime.tensorrt_encoder import TensorRTEncoder, tensorrt_missing

    if backend not in ENCODER_BACKENDS:
        raise ValueError(f"encoder: expected one of {', '.join(ENCODER_BACKENDS)}, got {backend!r}")
    engine = manifest["encoder"].get("tensorrt")
    if backend == "auto":
        backend = "onnx"
        if engine is not None and tensorrt_missing() is None:
            try:
                return TensorRTEncoder(folder / engine["file"])
            except ModelFileError as e:  # built for another GPU or TensorRT version
                warnings.warn(f"encoder 'auto': {e}; using ONNX Runtime", stacklevel=2)
    if backend == "tensorrt":
        if engine is None:
            raise BackendUnavailableError(f"encoder 'tensorrt': {folder} has no TensorRT engine "
                                          f"(export it with `ssr export --tensorrt` on a machine with a GPU)")
        return TensorRTEncoder(folder / engine["file"])
    providers = with_cpu_fallback(ONNX_PROVIDERS[backend]) if backend != "onnx" else None
    return OnnxEncoder(folder / manifest["encoder"]["files"]["fp32"], providers=providers, threads=threads)


def load_bundle(folder: Path, lm_file: str | None = None, threads: int = 1, encoder=None, lm=None) -> Bundle:
    """The exported model in `folder` with its default backends (encoder: `open_encoder`'s "auto"; the
    language model on `lm_file`: see `open_lm`). `encoder`: a backend name of ENCODER_BACKENDS, or an
    encoder object to use instead (e.g. the torch reference); `lm`: a language-model object to use instead."""
    from tokenizers import Tokenizer

    folder = Path(folder)
    manifest = verify_manifest(folder)
    config = ModelInfo.from_manifest(manifest)
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    if encoder is None or isinstance(encoder, str):
        encoder = open_encoder(folder, manifest, encoder or "auto", threads)
    if lm is None:
        lm = open_lm(folder, manifest, config, lm_file, threads)
    return Bundle(folder, manifest, config, tokenizer, encoder, lm)
