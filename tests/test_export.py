"""ssr_runtime.export on a tiny model trained here for a few dozen steps on structured texts: the
encoder's ONNX graph against torch, the GGUF files under llama.cpp (tokenizer, next-token agreement),
quantization fallbacks, the language model through Optimum (lm.onnx), the manifest's refusals, and
`ssr export`."""

import json
import random
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
onnx = pytest.importorskip("onnx", reason="the ONNX exporter needs the export extra (onnx)")
pytest.importorskip("onnxruntime", reason="ONNX checks run the graph under onnxruntime (export extra)")
gguf = pytest.importorskip("gguf", reason="the GGUF writer needs the export extra (gguf)")
llama_cpp = pytest.importorskip("llama_cpp", reason="GGUF checks load the files in llama-cpp-python (export extra)")
pytest.importorskip("optimum.exporters.onnx", reason="lm.onnx is exported through Optimum (export extra)")

from fitting import fit  # noqa: E402
from ssr_runtime import _core  # noqa: E402
from ssr_runtime.cli import main  # noqa: E402
from ssr_runtime.export import ManifestError, verify_manifest  # noqa: E402
from ssr_runtime.export.bundle import export_checkpoint  # noqa: E402
from ssr_runtime.export.gguf_writer import (  # noqa: E402
    QuantPlan, plan_quantization, quantize_gguf, tokenizer_vocabulary,
)
from ssr_runtime.export.manifest import MANIFEST_FILE, MANIFEST_VERSION  # noqa: E402
from ssr_runtime.export.onnx_encoder import (  # noqa: E402
    example_frames, grounding_max_abs_diff, max_abs_diff, onnx_session, run_onnx)
from ssr_runtime.model import SPECIAL_TOKENS, SSRConfig, SSRModel, save_checkpoint, train_tokenizer  # noqa: E402
from ssr_runtime.runtime.bundle import load_bundle  # noqa: E402
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT  # noqa: E402

torch.set_num_threads(2)

LABELS = ("chair", "table", "lamp", "sofa", "bed", "tv", "door")
PREDICATES = ("on", "under", "above", "below", "next_to", "near", "far_from")
TRAIN_STEPS = 60


def structured_text(rng: random.Random) -> str:
    """One stage-1-like document: boxes, triplets and a cog map with signed two-decimal numbers."""
    def number(scale=3.0):
        return round(rng.uniform(-scale, scale), 2)

    ids = [f"{rng.choice(LABELS)}#{rng.randint(1, 4)}" for _ in range(3)]
    lines = [_core.format_box(i, _core.Box3D([number(), number(), abs(number(1))], [abs(number(1)) + 0.1] * 3,
                                             number(3.1))) for i in ids]
    lines += [_core.format_triplet(_core.Triplet(ids[k], rng.choice(PREDICATES), ids[k - 1],
                                                 [number(2), number(2), number(0.5)])) for k in (1, 2)]
    lines.append(_core.format_cogmap(_core.CogMap(ids[0], 0.5, None, [_core.CogMapCell(ids[1], rng.randint(0, 9),
                                                                                        rng.randint(0, 9))])))
    return "<|window|><|vis|><|vis|>\n<|new|>\n" + "\n".join(lines) + "<|endoftext|>"


def corpus(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [structured_text(rng) for _ in range(count)]


def tiny_config(tokenizer, **changes):
    sizes = dict(vision_dim=32, vision_layers=1, vision_heads=2, hidden_size=64, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, intermediate_size=128, max_position_embeddings=512)
    return SSRConfig.preset("small", tokenizer, **(sizes | changes))


def train_briefly(model: SSRModel, tokenizer, texts: list[str]) -> None:
    """A few dozen AdamW steps on the LM, so next-token choices are mostly clear-cut (a random model's
    near-ties would make top-1 agreement a coin toss for reasons that are not the export's)."""
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    width = max(len(i) for i in ids)
    batch = torch.full((len(ids), width), model.config.eos_token_id)
    labels = torch.full((len(ids), width), -100)
    for row, seq in enumerate(ids):
        batch[row, :len(seq)] = torch.tensor(seq)
        labels[row, :len(seq)] = torch.tensor(seq)
    model.train()
    fit(model.lm.parameters(), lambda: model.lm(input_ids=batch, labels=labels).loss, TRAIN_STEPS)
    model.eval()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    texts = corpus(40, seed=0)
    tokenizer = train_tokenizer(texts, vocab_size=400)
    torch.manual_seed(0)
    model = SSRModel(tiny_config(tokenizer))
    train_briefly(model, tokenizer, texts[:24])
    checkpoint = tmp_path_factory.mktemp("checkpoint") / "ck"
    save_checkpoint(checkpoint, model, tokenizer)
    return model, tokenizer, checkpoint


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    _, _, checkpoint = trained
    out = tmp_path_factory.mktemp("export") / "out"
    result = export_checkpoint(checkpoint, out, quants=("f16", "q8_0", "q4_k_m"), fp16_onnx=True, onnx_lm=True,
                               progress=False)
    return out, result


@pytest.fixture
def export_copy(exported, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(exported[0], copy)
    return copy


def llama(path, **kwargs):
    return llama_cpp.Llama(str(path), n_ctx=512, n_threads=2, n_batch=512, verbose=False, **kwargs)


# --- encoder → ONNX --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 3])
def test_onnx_matches_torch_for_any_frame_count(trained, exported, frames):
    model, _, _ = trained
    diff = max_abs_diff(model.encoder, exported[0] / "encoder.onnx", *example_frames(model.config, frames, seed=7))
    assert diff <= 1e-4


def test_onnx_graph_is_checker_clean_with_a_dynamic_frame_axis(trained, exported):
    model, _, _ = trained
    graph = onnx.load(str(exported[0] / "encoder.onnx"))
    onnx.checker.check_model(graph, full_check=True)
    assert graph.opset_import[0].version >= 17
    c = model.config
    shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*graph.graph.input, *graph.graph.output]}
    assert shapes == {"pixels": ["frames", 3, 64, 64], "geometry": ["frames", 8, 8, 7], "pose": ["frames", 12],
                      "tokens": ["frames", c.tokens_per_frame, c.hidden_size]}


@pytest.mark.parametrize("frames", [1, 3])
def test_grounding_onnx_matches_the_heads_in_torch(trained, exported, frames):
    model, _, _ = trained
    example = example_frames(model.config, frames, seed=3)
    assert grounding_max_abs_diff(model.encoder, exported[0] / "grounding.onnx", *example) <= 1e-4
    grounding = verify_manifest(exported[0])["grounding"]
    cells = model.config.visual_tokens_per_frame
    assert grounding["outputs"] == {"cell_labels": ["frames", cells, 29], "cell_xyz": ["frames", cells, 3]}
    assert len(grounding["labels"]) == 28 and grounding["labels"] == sorted(grounding["labels"])
    assert set(grounding["sizes"]) == set(grounding["labels"]) and grounding["check_max_abs_diff"] <= 1e-4
    assert all(len(size) == 3 and min(size) > 0 for size in grounding["sizes"].values())


def test_a_checkpoints_torch_grounding_matches_its_exports_on_the_sample_scene():
    """`ssr eval --method model --variant grounded` grounds on torch (TorchGrounding) what the export
    grounds on ONNX Runtime: the shipped checkpoint against the shipped export, on real keyframes."""
    from ssr_runtime.data import sample_scene_path
    from ssr_runtime.data.readers import iter_scene_frames
    from ssr_runtime.preprocess import FrameBatch, frame_inputs
    from ssr_runtime.runtime.session import DEFAULT_MODEL
    from ssr_runtime.runtime.torch_backends import checkpoint_bundle

    frames = list(iter_scene_frames(sample_scene_path(), with_instance=False))[::10][:4]
    batch = FrameBatch.stack([frame_inputs(f.rgb, f.depth, f.K, f.T_wc) for f in frames])
    bundle = checkpoint_bundle(DEFAULT_CHECKPOINT)
    try:
        heads, exported = bundle.grounding_heads(), load_bundle(DEFAULT_MODEL).grounding_heads()
        assert heads.labels == exported.labels and heads.sizes == exported.sizes
        for torch_out, onnx_out in zip(heads.cells(batch.pixels, batch.geometry, batch.pose),
                                       exported.cells(batch.pixels, batch.geometry, batch.pose)):
            assert torch_out.shape == onnx_out.shape and np.abs(torch_out - onnx_out).max() <= 1e-4
    finally:
        bundle.lm.close()


def test_a_model_without_its_heads_exports_no_grounding(tmp_path):
    texts = corpus(8, seed=1)
    tokenizer = train_tokenizer(texts, vocab_size=300)
    model = SSRModel(tiny_config(tokenizer, position_loss_weight=0.0))
    save_checkpoint(tmp_path / "ck", model, tokenizer)
    export_checkpoint(tmp_path / "ck", tmp_path / "out", quants=("f16",), progress=False)
    assert "grounding" not in verify_manifest(tmp_path / "out") and not (tmp_path / "out" / "grounding.onnx").exists()
    from ssr_runtime.runtime.session import Session

    with pytest.raises(ValueError, match=r"has no grounding heads \(grounding.onnx\)"):
        Session(tmp_path / "out", grounding=True)
    with Session(tmp_path / "out") as session:  # by default a session grounds only where it can
        assert session.grounding is None
    with pytest.raises(ValueError, match="grounding: needs the patch head and the position head"):
        model.encoder.grounding(*(torch.from_numpy(a) for a in example_frames(model.config, 1)))


def test_fp16_onnx_keeps_float32_inputs_and_stays_close(trained, exported):
    model, _, _ = trained
    frames = example_frames(model.config, 2, seed=3)
    out = onnx_session(exported[0] / "encoder.fp16.onnx").run(None, dict(zip(("pixels", "geometry", "pose"), frames)))
    assert out[0].dtype == np.float16
    assert max_abs_diff(model.encoder, exported[0] / "encoder.fp16.onnx", *frames) <= 5e-3


def test_run_onnx_refuses_float64_frames(trained, exported):
    pixels, geometry, pose = example_frames(trained[0].config, 1)
    with pytest.raises(ValueError, match="geometry: expected float32"):
        run_onnx(onnx_session(exported[0] / "encoder.onnx"), pixels, geometry.astype(np.float64), pose)


# --- language model → GGUF ---------------------------------------------------------------------------------------


def test_gguf_metadata_marks_special_tokens_as_control(trained, exported):
    model, tokenizer, _ = trained
    reader = gguf.GGUFReader(str(exported[0] / "lm-f16.gguf"))
    fields = reader.fields
    assert fields["general.architecture"].contents() == "qwen2"
    assert fields["tokenizer.ggml.pre"].contents() == "qwen2"
    assert fields["tokenizer.ggml.model"].contents() == "gpt2"
    assert fields["qwen2.embedding_length"].contents() == model.config.hidden_size
    assert fields["tokenizer.ggml.eos_token_id"].contents() == model.config.eos_token_id
    types = fields["tokenizer.ggml.token_type"].contents()
    assert len(types) == len(tokenizer) == model.config.vocab_size
    special = {tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    assert {i for i, t in enumerate(types) if t == gguf.TokenType.CONTROL} == special
    tensor_types = {t.name: t.tensor_type for t in reader.tensors}
    assert tensor_types["blk.0.ffn_up.weight"] == gguf.GGMLQuantizationType.F16
    assert tensor_types["blk.0.attn_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert tensor_types["blk.0.attn_q.bias"] == gguf.GGMLQuantizationType.F32


def test_llama_cpp_tokenizes_like_the_training_tokenizer(trained, exported):
    _, tokenizer, _ = trained
    vocab = llama(exported[0] / "lm-f16.gguf", vocab_only=True)
    assert vocab.n_vocab() == len(tokenizer)
    texts = corpus(30, seed=99) + ["x=-12.05 y=0.00 z=-0.5", "1234567890 -1 -0.01", "  two  spaces\n\nand lines",
                                   "".join(SPECIAL_TOKENS), "ünïcode ✓ 温度 -3.5°", "chair#12<|vis|>table#3"]
    mismatches = [t for t in texts
                  if vocab.tokenize(t.encode(), add_bos=False, special=True)
                  != tokenizer(t, add_special_tokens=False)["input_ids"]]
    assert mismatches == []


def top1_agreement(path, model: SSRModel, ids: list[int]) -> float:
    lm = llama(path, logits_all=True)
    lm.eval(ids)
    theirs = np.asarray(lm.scores[:len(ids)]).argmax(axis=1)
    with torch.no_grad():
        ours = model.lm(input_ids=torch.tensor([ids])).logits[0].argmax(dim=1).numpy()
    return float((theirs == ours).mean())


@pytest.fixture(scope="module")
def held_out_ids(trained):
    """About 400 positions of structured text the model did not train on."""
    _, tokenizer, _ = trained
    ids = tokenizer("".join(corpus(40, seed=0)[24:]), add_special_tokens=False)["input_ids"]
    assert len(ids) >= 300
    return ids[:400]


@pytest.mark.parametrize("gguf_type, minimum", [("f16", 0.99), ("q8_0", 0.98)])
def test_gguf_next_token_agrees_with_torch(trained, exported, held_out_ids, gguf_type, minimum):
    assert top1_agreement(exported[0] / f"lm-{gguf_type}.gguf", trained[0], held_out_ids) >= minimum


def test_k_quant_falls_back_when_rows_are_not_multiples_of_256(trained, exported):
    model, tokenizer, _ = trained
    assert plan_quantization(model.config, "q4_k_m") == QuantPlan(
        "q4_k_m", "q4_0", "hidden_size = 64 is not a multiple of its block size 256; wrote q4_0 instead")
    assert plan_quantization(SSRConfig.preset("small", tokenizer), "q4_k_m") == QuantPlan("q4_k_m", "q4_k_m")
    recorded = json.loads((exported[0] / MANIFEST_FILE).read_text())["language_model"]["quantizations"]
    assert recorded[2] == {"requested": "q4_k_m", "produced": "q4_0", "file": "lm-q4_0.gguf",
                           "fallback_reason": "hidden_size = 64 is not a multiple of its block size 256; "
                                              "wrote q4_0 instead"}
    assert (exported[0] / "lm-q4_0.gguf").stat().st_size < (exported[0] / "lm-q8_0.gguf").stat().st_size


def test_quantization_refuses_unknown_types_and_rows_no_type_fits(trained):
    model, tokenizer, _ = trained
    with pytest.raises(ValueError, match="'q3_k'"):
        plan_quantization(model.config, "q3_k")
    odd = tiny_config(tokenizer, hidden_size=48, num_attention_heads=4)
    with pytest.raises(ValueError, match="hidden_size = 48 is not a multiple of its block size 32"):
        plan_quantization(odd, "q8_0")
    assert plan_quantization(odd, "f16") == QuantPlan("f16", "f16")


def test_quantize_reports_llama_cpp_refusing_a_file(tmp_path):
    source = tmp_path / "not.gguf"
    source.write_bytes(b"GGUF but not really")
    with pytest.raises(RuntimeError, match="failed with status"):
        quantize_gguf(source, tmp_path / "out.gguf", "q8_0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.gguf"]
    with pytest.raises(ValueError, match="expected one of q8_0"):
        quantize_gguf(source, tmp_path / "out.gguf", "f16")


def test_embedding_rows_beyond_the_tokenizer_are_unused_tokens(trained):
    _, tokenizer, _ = trained
    tokens, types = tokenizer_vocabulary(tokenizer, len(tokenizer) + 2)
    assert tokens[-2:] == [f"[PAD{len(tokenizer)}]", f"[PAD{len(tokenizer) + 1}]"]
    assert types[-2:] == [gguf.TokenType.UNUSED] * 2
    with pytest.raises(ValueError, match="more than the model's vocab_size"):
        tokenizer_vocabulary(tokenizer, len(tokenizer) - 1)


# --- manifest -----------------------------------------------------------------------------------------------------


def test_manifest_lists_every_file_and_verifies(trained, exported):
    model, _, checkpoint = trained
    out, result = exported
    record = verify_manifest(out)
    assert sorted(record["files"]) == sorted(n for n in result.files if n != MANIFEST_FILE) == sorted(
        ["encoder.onnx", "encoder.fp16.onnx", "grounding.onnx", "tokenizer.json", "lm-f16.gguf", "lm-q8_0.gguf",
         "lm-q4_0.gguf", "lm.onnx", "lm-embeddings.npy"])
    assert record["config"] == model.config.to_dict()
    assert record["source_checkpoint"] == str(checkpoint.resolve())
    assert record["encoder"]["inputs"]["pixels"] == ["frames", 3, 64, 64]
    assert record["encoder"]["check_max_abs_diff"]["encoder.onnx"] <= 1e-4
    assert len(record["tokenizer_sha256"]) == 64
    onnx_lm = record["language_model"]["onnx"]
    assert (onnx_lm["file"], onnx_lm["embeddings"], onnx_lm["opset"], onnx_lm["exporter"]) == (
        "lm.onnx", "lm-embeddings.npy", 18, "optimum")
    assert onnx_lm["optimum_version"].startswith("2.1.") and onnx_lm["optimum_onnx_version"] == "0.1.0"
    assert onnx_lm["check_max_abs_diff"] == result.lm_onnx_max_abs_diff["lm.onnx"] <= 1e-4
    assert not list(out.glob(".*")), "no temporary file is left behind"


def test_manifest_refuses_a_missing_file(export_copy):
    (export_copy / "lm-q8_0.gguf").unlink()
    with pytest.raises(ManifestError, match=r"lm-q8_0\.gguf: missing"):
        verify_manifest(export_copy)


@pytest.mark.parametrize("name", ["lm.onnx", "lm-embeddings.npy"])
def test_a_missing_or_modified_onnx_language_model_is_refused_at_load(export_copy, name):
    path = export_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match=rf"{name}: sha256 differs"):
        load_bundle(export_copy, lm_file="lm.onnx")
    path.unlink()
    with pytest.raises(ManifestError, match=rf"{name}: missing"):
        load_bundle(export_copy, lm_file="lm.onnx")


def test_manifest_refuses_a_truncated_file(export_copy):
    path = export_copy / "encoder.onnx"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ManifestError, match=r"encoder\.onnx: size .*\(truncated"):
        verify_manifest(export_copy)


def test_manifest_refuses_a_modified_file(export_copy):
    path = export_copy / "lm-f16.gguf"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match=r"lm-f16\.gguf: sha256 differs"):
        verify_manifest(export_copy)


@pytest.mark.parametrize("change, message", [
    ({"version": MANIFEST_VERSION + 1}, "version 2 is not known"),
    ({"format": "something-else"}, "format is not"),
    ({"files": {"../escape.bin": {"size": 1, "sha256": "0" * 64}}}, "leaves the export folder"),
    ({"files": {"encoder.onnx": {"size": "12"}}}, "'files' must map"),
])
def test_manifest_refuses_a_bad_header(export_copy, change, message):
    path = export_copy / MANIFEST_FILE
    path.write_text(json.dumps(json.loads(path.read_text()) | change))
    with pytest.raises(ManifestError, match=message):
        verify_manifest(export_copy)


def test_manifest_refuses_a_folder_without_one_and_broken_json(tmp_path):
    with pytest.raises(ManifestError, match="manifest.json: missing"):
        verify_manifest(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        verify_manifest(tmp_path)


def test_manifest_error_names_a_training_checkpoint():
    """The easy slip: the packaged training checkpoint passed where the runtime folder is meant."""
    with pytest.raises(ManifestError, match=r"a training checkpoint, not an `ssr export` folder; make one with "
                                            r"`ssr export --checkpoint .*default-checkpoint --out FOLDER`"):
        verify_manifest(DEFAULT_CHECKPOINT)


# --- the export as a whole, and `ssr export` ------------------------------------------------------------------


def test_reexport_replaces_an_earlier_export_and_refuses_a_foreign_folder(trained, export_copy, tmp_path):
    _, _, checkpoint = trained
    result = export_checkpoint(checkpoint, export_copy, quants=("q8_0",), progress=False)
    assert sorted(p.name for p in export_copy.iterdir()) == sorted(
        ["encoder.onnx", "grounding.onnx", "lm-q8_0.gguf", MANIFEST_FILE, "tokenizer.json"])
    verify_manifest(export_copy)
    assert result.quantizations == [QuantPlan("q8_0", "q8_0")]
    with pytest.raises(ValueError, match=r"got 'lm.onnx'; this export has no ONNX language model: .*--onnx-lm"):
        load_bundle(export_copy, lm_file="lm.onnx")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an earlier export"):
        export_checkpoint(checkpoint, foreign, progress=False)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_bad_requests_are_refused_before_the_folder_is_touched(trained, export_copy, tmp_path):
    _, _, checkpoint = trained
    before = sorted(p.name for p in export_copy.iterdir())
    with pytest.raises(ValueError, match="'q5'"):
        export_checkpoint(checkpoint, export_copy, quants=("f16", "q5"), progress=False)
    with pytest.raises(ValueError, match="listed twice"):
        export_checkpoint(checkpoint, export_copy, quants=("f16", "f16"), progress=False)
    with pytest.raises(FileNotFoundError, match="not an SSR model folder"):
        export_checkpoint(tmp_path / "no-checkpoint", export_copy, progress=False)
    assert sorted(p.name for p in export_copy.iterdir()) == before
    verify_manifest(export_copy)


def test_ssr_export_prints_a_table_of_files(trained, tmp_path, capsys):
    _, _, checkpoint = trained
    out = tmp_path / "cli"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--quant", "f32,q4_0", "--onnx-lm",
                 "--quiet"]) == 0
    table = capsys.readouterr().out
    for name in ("encoder.onnx", "lm-f32.gguf", "lm-q4_0.gguf", "lm.onnx", "lm-embeddings.npy", MANIFEST_FILE):
        assert name in table
    assert "KiB" in table and "max |onnx - torch| logit" in table
    verify_manifest(out)


def test_ssr_export_rejects_unknown_types_and_reports_bad_folders(trained, tmp_path, capsys):
    _, _, checkpoint = trained
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o"), "--quant", "f16,q9"])
    assert exit_info.value.code == 2
    assert "q9" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "not an SSR model folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
