"""The GPU encoder backends: the TensorRT engine of `ssr export --tensorrt` and ONNX Runtime's CUDA
and TensorRT providers. Where TensorRT, a GPU or a provider is missing, the tests that need it skip
with the reason, and the tests of the refusals run: `ssr export --tensorrt` and the runtime name what
is missing, and an earlier export is left as it was."""

import json
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx", reason="the ONNX exporter needs the export extra (onnx)")
ort = pytest.importorskip("onnxruntime", reason="the ONNX encoder needs onnxruntime (runtime extra)")
pytest.importorskip("gguf", reason="the GGUF writer needs the export extra (gguf)")
pytest.importorskip("llama_cpp", reason="load_bundle opens the GGUF in llama-cpp-python (runtime extra)")

from ssr_runtime.cli import main  # noqa: E402
from ssr_runtime.export import verify_manifest  # noqa: E402
from ssr_runtime.export.bundle import ENGINE_FILE, export_checkpoint  # noqa: E402
from ssr_runtime.export.onnx_encoder import example_frames, torch_tokens  # noqa: E402
from ssr_runtime.export.manifest import read_manifest  # noqa: E402
from ssr_runtime.model import SSRConfig, SSRModel, save_checkpoint, train_tokenizer  # noqa: E402
from ssr_runtime.runtime.bundle import open_encoder  # noqa: E402
from ssr_runtime.runtime.encoders import OnnxEncoder  # noqa: E402
from ssr_runtime.runtime.errors import BackendUnavailableError  # noqa: E402
from ssr_runtime.runtime.tensorrt_encoder import TensorRTEncoder, tensorrt_missing  # noqa: E402

torch.set_num_threads(2)
TENSORRT_MISSING = tensorrt_missing()
PROVIDERS = ort.get_available_providers()
FP16_TOLERANCE = 5e-2  # the float16 graph against torch's float32 on random frames


def require_tensorrt():
    if TENSORRT_MISSING is not None:
        pytest.skip(f"TensorRT engine: {TENSORRT_MISSING}")


def require_provider(name: str):
    if name not in PROVIDERS:
        pytest.skip(f"onnxruntime has no {name} (available: {', '.join(PROVIDERS)})")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random-init tiny model (the backends' agreement does not depend on trained weights)."""
    tokenizer = train_tokenizer(["<|window|><|vis|>\n<|new|>\nchair#1 table#2 lamp#3<|endoftext|>"] * 8,
                                vocab_size=300)
    torch.manual_seed(0)
    model = SSRModel(SSRConfig.preset("small", tokenizer, vision_dim=32, vision_layers=1, vision_heads=2,
                                      hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
                                      num_key_value_heads=2, intermediate_size=128, max_position_embeddings=256))
    folder = tmp_path_factory.mktemp("checkpoint") / "ck"
    save_checkpoint(folder, model, tokenizer)
    return model.eval(), folder


@pytest.fixture(scope="module")
def exported(checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "out"
    export_checkpoint(checkpoint[1], out, quants=("f16",), progress=False)
    return out


def snapshot(folder):
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


# --- where TensorRT or a provider is missing: the refusals -----------------------------------------------------


def test_ssr_export_tensorrt_names_what_is_missing_and_leaves_the_earlier_export(checkpoint, exported, tmp_path,
                                                                                 capsys):
    if TENSORRT_MISSING is None:
        pytest.skip("TensorRT and a CUDA device are here: the refusal cannot happen")
    print(f"TensorRT unavailable here: {TENSORRT_MISSING}")
    before = snapshot(exported)
    assert main(["export", "--checkpoint", str(checkpoint[1]), "--out", str(exported), "--tensorrt", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"ssr export: --tensorrt: TensorRT unavailable: {TENSORRT_MISSING}" in err
    assert snapshot(exported) == before
    verify_manifest(exported)
    assert main(["export", "--checkpoint", str(checkpoint[1]), "--out", str(tmp_path / "new"), "--tensorrt"]) == 1
    assert not (tmp_path / "new").exists()


def test_the_runtime_names_the_missing_piece_of_each_encoder_backend(exported):
    manifest = read_manifest(exported)
    assert isinstance(open_encoder(exported, manifest, "auto"), OnnxEncoder)  # no engine in this export
    with pytest.raises(BackendUnavailableError, match="has no TensorRT engine.*ssr export --tensorrt"):
        open_encoder(exported, manifest, "tensorrt")
    for backend, provider in (("onnx-cuda", "CUDAExecutionProvider"), ("onnx-tensorrt", "TensorrtExecutionProvider")):
        if provider not in PROVIDERS:
            with pytest.raises(BackendUnavailableError, match=f"{provider}.*not available in this onnxruntime"):
                open_encoder(exported, manifest, backend)
    with pytest.raises(ValueError, match="expected one of auto, tensorrt, onnx"):
        open_encoder(exported, manifest, "cuda")
    if TENSORRT_MISSING is not None:
        with pytest.raises(BackendUnavailableError, match=re.escape(f"TensorRT unavailable: {TENSORRT_MISSING}")):
            TensorRTEncoder(exported / ENGINE_FILE)


def test_ssr_profile_says_why_a_backend_has_no_numbers_and_closes_its_encoders(exported, tmp_path, capsys,
                                                                              monkeypatch):
    closed = []
    monkeypatch.setattr(OnnxEncoder, "close", lambda self: closed.append(self), raising=False)
    assert main(["profile", "--model", str(exported), "--encoder", "onnx-cpu,onnx-cuda,onnx-tensorrt,tensorrt",
                 "--lm", "onnx", "--out", str(tmp_path)]) == 0
    profile = json.loads((tmp_path / "profile.json").read_text())
    rows = {r["backend"]: r for r in profile["rows"]}
    assert rows["onnx-cpu"]["encoder_p50_ms"] > 0
    assert "has no TensorRT engine" in rows["tensorrt"]["unavailable"]
    for backend, provider in (("onnx-cuda", "CUDAExecutionProvider"), ("onnx-tensorrt", "TensorrtExecutionProvider")):
        assert (provider in rows[backend].get("unavailable", "")) == (provider not in PROVIDERS)
    assert rows["onnx"] == {"kind": "lm", "backend": "onnx",
                            "unavailable": f"{exported} has no lm.onnx (export it with `ssr export --onnx-lm`)"}
    assert profile["lm_encoder"].startswith("OnnxEncoder (")  # no engine in this export
    assert len(closed) == sum("unavailable" not in r for r in profile["rows"] if r["kind"] == "encoder")
    out = capsys.readouterr().out
    assert "| tensorrt | unavailable: encoder 'tensorrt':" in out and "| onnx | unavailable: " in out


def test_an_engine_that_cannot_load_here_falls_back_in_auto_and_is_unavailable_in_profile(exported, tmp_path,
                                                                                          monkeypatch):
    import ssr_runtime.runtime.tensorrt_encoder as tensorrt_encoder
    from ssr_runtime.runtime.errors import ModelFileError

    def foreign_engine(path):
        raise ModelFileError(f"{path}: TensorRT 10.0 cannot load this engine (built for another GPU)")

    monkeypatch.setattr(tensorrt_encoder, "tensorrt_missing", lambda: None)
    monkeypatch.setattr(tensorrt_encoder, "TensorRTEncoder", foreign_engine)
    manifest = read_manifest(exported)
    manifest["encoder"]["tensorrt"] = {"file": ENGINE_FILE}
    with pytest.warns(UserWarning, match="encoder 'auto': .*cannot load this engine.*; using ONNX Runtime"):
        assert isinstance(open_encoder(exported, manifest, "auto"), OnnxEncoder)
    with pytest.raises(ModelFileError, match="cannot load this engine"):
        open_encoder(exported, manifest, "tensorrt")
    monkeypatch.setattr("ssr_runtime.runtime.bundle.verify_manifest", lambda folder: manifest)
    with pytest.warns(UserWarning, match="using ONNX Runtime"):
        assert main(["profile", "--model", str(exported), "--encoder", "tensorrt", "--lm", "",
                     "--out", str(tmp_path)]) == 0
    row, = json.loads((tmp_path / "profile.json").read_text())["rows"]
    assert "cannot load this engine" in row["unavailable"]


# --- with a GPU ---------------------------------------------------------------------------------------------------


def test_tensorrt_engine_matches_torch_and_auto_picks_it(checkpoint, tmp_path):
    require_tensorrt()
    model, folder = checkpoint
    out = tmp_path / "trt"
    result = export_checkpoint(folder, out, quants=("f16",), tensorrt=True, progress=False)
    manifest = verify_manifest(out)
    engine = manifest["encoder"]["tensorrt"]
    assert engine["file"] == ENGINE_FILE and engine["frames"] == {"min": 1, "opt": 4, "max": 16}
    assert ENGINE_FILE in manifest["files"] and result.encoder_max_abs_diff[ENGINE_FILE] <= FP16_TOLERANCE
    encoder = open_encoder(out, manifest, "auto")
    assert isinstance(encoder, TensorRTEncoder)
    for frames in (1, 4, 16):
        inputs = example_frames(model.config, frames, seed=frames)
        assert np.abs(encoder.encode(*inputs) - torch_tokens(model.encoder, *inputs)).max() <= FP16_TOLERANCE
    with pytest.raises(ValueError, match="takes 1 to 16 frames per call, got 17"):
        encoder.encode(*example_frames(model.config, 17))
    encoder.close()


@pytest.mark.parametrize("backend, provider, tolerance", [
    ("onnx-cuda", "CUDAExecutionProvider", 1e-3), ("onnx-tensorrt", "TensorrtExecutionProvider", FP16_TOLERANCE)])
def test_onnx_runtime_gpu_providers_match_torch(checkpoint, exported, backend, provider, tolerance, tmp_path,
                                                 monkeypatch):
    require_provider(provider)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the TensorRT provider's engine cache goes here
    model, _ = checkpoint
    encoder = open_encoder(exported, read_manifest(exported), backend)
    assert encoder.providers[0] == provider
    inputs = example_frames(model.config, 4, seed=2)
    assert np.abs(encoder.encode(*inputs) - torch_tokens(model.encoder, *inputs)).max() <= tolerance
    if provider == "TensorrtExecutionProvider":
        assert any((tmp_path / "ssr-runtime" / "ort-tensorrt").rglob("*"))
