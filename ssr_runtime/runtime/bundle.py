"""Loading an exported model folder (`ssr export`) for the runtime: the manifest is checked first, so a
missing, truncated or modified file is refused before any backend opens it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssr_runtime.export.manifest import verify_manifest

TOKENIZER_FILE = "tokenizer.json"
PREFERRED_LM_TYPES = ("q8_0", "f16", "q4_k_m", "q4_0", "f32")
ONNX_LM_FILE = "lm.onnx"  # what `ssr export --onnx-lm` writes (export/onnx_lm.py, which needs Optimum)


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
    manifest: dict
    config: ModelInfo
    tokenizer: object  # tokenizers.Tokenizer
    encoder: object  # encode(pixels, geometry, pose) -> [N, tokens_per_frame, hidden]
    lm: object  # prefill / generate / truncate / reset


def lm_files(manifest: dict) -> dict[str, str]:
    """{GGUF type: file name} of an export manifest."""
    return {q["produced"]: q["file"] for q in manifest["language_model"]["quantizations"]}


def onnx_lm_file(manifest: dict) -> str | None:
    """The file name of the language model exported through Optimum (`ssr export --onnx-lm`), if any."""
    onnx = manifest["language_model"].get("onnx")
    return onnx["file"] if onnx else None


def open_lm(folder: Path, manifest: dict, config: ModelInfo, lm_file: str | None = None, threads: int = 1):
    """The language-model backend on `lm_file` of the export in `folder` (manifest already verified):
    LlamaCppLM for a GGUF (default: the first of PREFERRED_LM_TYPES the folder has), OnnxLM for the
    ONNX file (`lm.onnx`; its grammars use the preferred GGUF's vocabulary)."""
    files = lm_files(manifest)
    preferred = next(files[t] for t in PREFERRED_LM_TYPES if t in files)
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


def load_bundle(folder: Path, lm_file: str | None = None, threads: int = 1, encoder=None, lm=None) -> Bundle:
    """The exported model in `folder` with its default backends (ONNX Runtime encoder, the language model
    on `lm_file`: see `open_lm`); `encoder` / `lm` replace them."""
    from tokenizers import Tokenizer

    folder = Path(folder)
    manifest = verify_manifest(folder)
    config = ModelInfo.from_manifest(manifest)
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    if encoder is None:
        from ssr_runtime.runtime.encoders import OnnxEncoder

        encoder = OnnxEncoder(folder / manifest["encoder"]["files"]["fp32"], threads=threads)
    if lm is None:
        lm = open_lm(folder, manifest, config, lm_file, threads)
    return Bundle(folder, manifest, config, tokenizer, encoder, lm)
