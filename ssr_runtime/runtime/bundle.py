"""Loading an exported model folder (`ssr export`) for the runtime: the manifest is checked first, so a
missing, truncated or modified file is refused before any backend opens it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ssr_runtime.export.manifest import verify_manifest

TOKENIZER_FILE = "tokenizer.json"
PREFERRED_LM_TYPES = ("q8_0", "f16", "q4_k_m", "q4_0", "f32")


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


def load_bundle(folder: Path, lm_file: str | None = None, threads: int = 1, encoder=None, lm=None) -> Bundle:
    """The exported model in `folder` with its default backends (ONNX Runtime encoder, llama.cpp LM on
    `lm_file` or the first of PREFERRED_LM_TYPES the folder has); `encoder` / `lm` replace them."""
    from tokenizers import Tokenizer

    folder = Path(folder)
    manifest = verify_manifest(folder)
    config = ModelInfo.from_manifest(manifest)
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    if encoder is None:
        from ssr_runtime.runtime.encoders import OnnxEncoder

        encoder = OnnxEncoder(folder / manifest["encoder"]["files"]["fp32"], threads=threads)
    if lm is None:
        from ssr_runtime.runtime.llama_lm import LlamaCppLM

        files = lm_files(manifest)
        if lm_file is None:
            lm_file = next((files[t] for t in PREFERRED_LM_TYPES if t in files), None)
        if lm_file is None or lm_file not in files.values():
            raise ValueError(f"{folder}: lm_file: expected one of {sorted(files.values())}, got {lm_file!r}")
        lm = LlamaCppLM(folder / lm_file, n_ctx=config.max_position_embeddings, threads=threads)
    return Bundle(folder, manifest, config, tokenizer, encoder, lm)
