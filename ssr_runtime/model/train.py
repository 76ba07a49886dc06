"""Two-stage training of the SSR model (`ssr train`).

Stage 1 (structure and grounding) trains a fresh model — and its tokenizer — on frame windows whose
targets are the new objects' boxes and triplets, and on LocalCogMaps. Stage 2 (reasoning) starts from
a stage-1 checkpoint and trains on questions answered over the scene graph, with a replay of stage-1
samples so perception is not forgotten. Texts and frames come from `ssr_runtime.training.dataset`,
prepared once per data folder (and tokens-per-frame and seed) into `DATA/.prepared/`.

Everything is deterministic for a seed on one machine: the data order, the initialisation and the
step schedule (by steps, not by time). A run writes into its output folder:
- `checkpoint/`: the latest model + tokenizer (`save_checkpoint`), replaced atomically;
- `training_state.pt`: optimizer, step and random states, so `--resume` continues where it stopped;
- `train_log.jsonl`: one line per logged step (mean target-token loss since the previous line,
  learning rate, tokens/s, samples per kind), and `loss.png`.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ssr_runtime.files import write_json_atomic
from ssr_runtime.model import SSRConfig, SSRModel, load_checkpoint, save_checkpoint, train_tokenizer
from ssr_runtime.model.modeling import frame_tensors
from ssr_runtime.preprocess import FrameBatch
from ssr_runtime.training import dataset
from ssr_runtime.training.samples import KIND_LABELS, Sample, target_pieces

IGNORE = -100
CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "training_state.pt"
LOG_FILE = "train_log.jsonl"
SETTINGS_FILE = "train_settings.json"
PRECISIONS = ("fp32", "bf16")
LENGTH_WINDOW = 128  # samples whose lengths `make_batches` groups: 1.15 padded tokens per real one in stage 2


@dataclass
class TrainSettings:
    stage: int
    data: Path  # a folder of scans (`ssr data gen`)
    out: Path
    config: str = "small"
    fusion: str = "add+interleave"
    pool: int | None = None  # stage 1: override the preset's patch pooling (1 = a token per patch)
    token_norm: str | None = None  # stage 1: override the preset's visual-token normalisation
    encoder_epochs: int = 12  # stage 1: epochs of patch-label pre-training of the new encoder (0 = none)
    vision_lr_scale: float = 0.1  # the ViT and geometry MLP learn at this fraction of lr after pre-training
    # (stage 2 too, whose encoder stage 1 pre-trained; encoder_epochs = 0 means none was)
    init: Path | None = None  # stage 2: the stage-1 output folder (or its checkpoint/)
    graphs: Path | None = None  # stage 2: a model's own graphs of the scans (`ssr read`), asked over in part
    steps: int = 1000
    align_steps: int = 0  # stage 1: the first steps train on label lists alone (the LM learns to read its frames)
    batch_tokens: int = 4096  # padded tokens per batch (batch size × longest sample)
    lr: float = 1e-3
    warmup_steps: int = 50
    weight_decay: float = 0.01
    replay: float = 0.25  # stage 2: fraction of stage-1 samples mixed in
    vocab_size: int = 1024
    seed: int = 0
    threads: int = 2
    device: str = "cpu"  # or "cuda"; the same schedule and data order on either
    # "bf16": forward passes under bfloat16 autocast (weights, optimizer and checkpoints stay float32). About 1.5x
    # the steps per second on this AVX512-BF16 CPU (docs/MODEL.md, "Stage 1 in bfloat16").
    precision: str = "fp32"
    log_every: int = 10
    save_every: int = 200
    max_minutes: float | None = None  # safety stop; the schedule is by steps

    def to_json(self) -> dict:
        return json.loads(json.dumps(asdict(self), default=str))


@dataclass
class Example:
    """One tokenized sample: ids = prompt + target; the loss covers the ids the model writes
    (`generated`), not the prompt nor the runtime's lines fed into the target."""

    ids: list[int]
    generated: list[bool]
    scene_id: str
    frames: list[int]
    kind: str = ""  # the sample's kind (samples.KIND_*)


class FrameStore:
    """The prepared frame inputs and patch label classes of every scene, loaded once (uint8 stays uint8)."""

    def __init__(self, cache: Path, scene_ids: set[str]):
        self.scenes = {sid: dataset.load_frames(cache, sid) for sid in sorted(scene_ids)}
        self.patch_labels = {sid: dataset.load_patch_labels(cache, sid) for sid in sorted(scene_ids)}

    def batch(self, examples: list[Example], device: str) -> tuple[torch.Tensor | None, ...]:
        """(pixels, geometry, pose, patch_labels) of the examples' frames in order; Nones without frames."""
        with_frames = [e for e in examples if e.frames]
        if not with_frames:
            return None, None, None, None
        picked = [self.scenes[e.scene_id].select(e.frames) for e in with_frames]
        inputs = frame_tensors(FrameBatch(*(np.concatenate([getattr(b, name) for b in picked])
                                            for name in ("pixels", "geometry", "pose"))), device)
        labels = np.concatenate([self.patch_labels[e.scene_id][e.frames] for e in with_frames])
        return (*inputs, torch.from_numpy(labels).to(device))


def tokenize(samples: list[Sample], tokenizer, max_len: int, progress: bool = True) -> list[Example]:
    """Prompt and the target's pieces (`samples.target_pieces`) are tokenized apart, as at inference
    (the prompt and the runtime's lines are fed, the rest generated); samples longer than the model's
    context are dropped."""
    examples = []
    for sample in tqdm(samples, desc="tokenize", unit="sample", leave=False, disable=not progress):
        ids = tokenizer(sample.prompt, add_special_tokens=False)["input_ids"]
        generated = [False] * len(ids)
        for text, written in target_pieces(sample.target):
            piece = tokenizer(text, add_special_tokens=False)["input_ids"]
            ids += piece
            generated += [written] * len(piece)
        if len(ids) <= max_len:
            examples.append(Example(ids, generated, sample.scene_id, list(sample.frames), sample.kind))
    return examples


def make_batches(examples: list[Example], batch_tokens: int, rng: random.Random) -> list[list[Example]]:
    """Batches under a padded-token budget (batch size × longest sample), in a seeded random order.

    Lengths are grouped within windows of LENGTH_WINDOW shuffled samples, not over the whole set. Mixed
    lengths doubled the padding (stage 2 with replay: 2.1 padded tokens per real one, 1.15 in windows
    of 128), so a step saw half the samples it could. A global sort would put samples with the same
    prompt (every room-size question of stage 2 is one text) into a few batches of ~40 that swung the
    model to and fro, and that scaffold was never learned (docs/MODEL.md, "Run 3"); a window holds
    few of them."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    batches = []
    for start in range(0, len(order), LENGTH_WINDOW):
        window = sorted((examples[i] for i in order[start:start + LENGTH_WINDOW]), key=lambda e: len(e.ids))
        batches += cut_batches(window, batch_tokens)
    rng.shuffle(batches)
    return batches


def cut_batches(examples: list[Example], batch_tokens: int) -> list[list[Example]]:
    """`examples` in their order, cut into batches under the padded-token budget."""
    batches, current, longest = [], [], 0
    for example in examples:
        n = len(example.ids)
        if current and max(longest, n) * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(example)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches


def collate(batch: list[Example], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(e.ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.ids)
        ids[row, :n] = torch.tensor(e.ids)
        labels[row, :n] = torch.where(torch.tensor(e.generated), ids[row, :n], IGNORE)
        mask[row, :n] = 1
    return ids, labels, mask


def learning_rate(step: int, peak: float, steps: int, warmup_steps: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak at the last step."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, steps - warmup_steps))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def prepared(data: Path, tokens_per_frame: int, seed: int, progress: bool, graphs: Path | None = None) -> Path:
    """The prepared training set of `data` (made on first use; reused after), with stage 2 partly over
    `graphs` when given (a cache of its own, named by the graphs' digest)."""
    name = f"v{dataset.PREPARE_VERSION}-tpf{tokens_per_frame}-seed{seed}"
    if graphs is not None:
        name += f"-graphs{dataset.graphs_digest(graphs)}"
    cache = Path(data) / ".prepared" / name
    if not (cache / "prepare.json").is_file():
        dataset.prepare(data, cache, seed=seed, tokens_per_frame=tokens_per_frame, workers=2, progress=progress,
                        graphs=graphs)
    return cache


def training_samples(s: TrainSettings, cache: Path, rng: random.Random) -> list[Sample]:
    """What stage `s.stage` trains on: stage 1's samples, or stage 2's with `s.replay` of stage 1's mixed in."""
    stage1 = dataset.load_samples(cache, stage=1)
    if s.stage == 1:
        return stage1
    stage2 = dataset.load_samples(cache, stage=2)
    replay = rng.sample(stage1, min(len(stage1), int(len(stage2) * s.replay / (1 - s.replay))))
    return stage2 + replay


def _start(s: TrainSettings, out: Path, progress: bool):
    """(model, tokenizer, prepared data): resumed, from the stage-1 checkpoint, or new (stage 1:
    the tokenizer is trained on the prepared texts first)."""
    if (out / STATE_FILE).is_file():
        model, tokenizer = load_checkpoint(out / CHECKPOINT_DIR)
    elif s.stage == 2:
        if s.init is None:
            raise ValueError("stage 2: --init must name the stage-1 output folder")
        init = Path(s.init)
        model, tokenizer = load_checkpoint(init / CHECKPOINT_DIR if (init / CHECKPOINT_DIR).is_dir() else init)
    else:
        overrides = {"fusion": s.fusion, "pool": s.pool, "token_norm": s.token_norm}
        overrides = {name: value for name, value in overrides.items() if value is not None}
        cache = prepared(s.data, SSRConfig.preset(s.config, **overrides).tokens_per_frame, s.seed, progress)
        corpus = (cache / "corpus.txt").read_text().splitlines()
        tokenizer = train_tokenizer(corpus, vocab_size=s.vocab_size)
        return SSRModel(SSRConfig.preset(s.config, tokenizer=tokenizer, **overrides)), tokenizer, cache
    return model, tokenizer, prepared(s.data, model.config.tokens_per_frame, s.seed, progress, s.graphs)


def train(s: TrainSettings, progress: bool = True) -> Path:
    """Runs (or resumes) one stage; returns the checkpoint folder."""
    if s.stage == 1 and s.graphs is not None:
        raise ValueError("--graphs: stage 2 only (stage 1 reads the scans' annotations)")
    if s.stage == 2 and s.align_steps:
        raise ValueError("--align-steps: stage 1 only (stage 2 has no label lists)")
    if s.precision not in PRECISIONS:
        raise ValueError(f"--precision: expected one of {', '.join(PRECISIONS)}, got {s.precision!r}")
    torch.set_num_threads(s.threads)
    run_dir = Path(s.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    state_path = run_dir / STATE_FILE
    resuming = state_path.is_file()
    torch.manual_seed(s.seed)
    rng = random.Random(s.seed)
    model, tokenizer, cache = _start(s, run_dir, progress)
    model.to(s.device)
    write_json_atomic(run_dir / SETTINGS_FILE, s.to_json())

    examples = tokenize(training_samples(s, cache, rng), tokenizer, model.config.max_position_embeddings, progress)
    reading = [e for e in examples if e.kind == KIND_LABELS]
    if s.align_steps and not reading:
        raise ValueError(f"--align-steps: the prepared data {cache} has no label-list samples")
    frames = FrameStore(cache, {e.scene_id for e in examples if e.frames})
    optimizer = torch.optim.AdamW(parameter_groups(model, s), lr=s.lr, weight_decay=s.weight_decay)
    step = 0
    if resuming:
        state = torch.load(state_path, weights_only=False, map_location=s.device)
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        rng.setstate(state["python_rng"])
        torch.set_rng_state(state["torch_rng"].cpu())
    elif s.stage == 1 and s.encoder_epochs and model.config.patch_classes:
        pretrain_encoder(model, frames, s, run_dir, progress)
        _save(run_dir, model, tokenizer, optimizer, 0, rng)  # a resumed run does not pre-train again

    pad_id = model.config.eos_token_id
    model.train()
    started = time.monotonic()
    batches: list[list[Example]] = []
    pool: list[Example] | None = None  # the examples `batches` are drawn from
    window_tokens, window_time = 0, time.monotonic()
    window_loss, window_targets = 0.0, 0  # target-token-weighted loss since the last log line
    window_aux: dict[str, float] = {}  # auxiliary loss name → sum since the last log line
    window_steps = 0
    window_kinds: Counter[str] = Counter()  # samples per kind since the last log line
    with tqdm(total=s.steps, initial=step, desc=f"stage {s.stage}", unit="step", disable=not progress) as bar:
        while step < s.steps:
            wanted = reading if step < s.align_steps else examples
            if not batches or wanted is not pool:
                pool, batches = wanted, make_batches(wanted, s.batch_tokens, rng)
            batch = batches.pop()
            ids, labels, mask = (t.to(s.device) for t in collate(batch, pad_id))
            pixels, geometry, pose, patch_labels = frames.batch(batch, s.device)
            if not model.config.patch_classes:
                patch_labels = None
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, s.lr, s.steps, s.warmup_steps) * group["lr_scale"]
            with autocast(s):
                out = model(ids, attention_mask=mask, labels=labels, pixels=pixels, geometry=geometry, pose=pose,
                            patch_labels=patch_labels)
                loss = out.loss
                aux = auxiliary_losses(model.config, out)
            total = loss + sum(weight * value for weight, value in aux.values())
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            window_tokens += int(mask.sum())
            targets = int((labels[:, 1:] != IGNORE).sum())
            window_loss += loss.item() * targets
            window_targets += targets
            for name, (_, value) in aux.items():
                window_aux[name] = window_aux.get(name, 0.0) + value.item()
            window_steps += 1
            window_kinds.update(e.kind for e in batch)
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if step % s.log_every == 0 or step == s.steps:
                now = time.monotonic()
                record = {"stage": s.stage, "step": step, "loss": round(window_loss / max(1, window_targets), 5),
                          "lr": learning_rate(step - 1, s.lr, s.steps, s.warmup_steps),
                          "tokens_per_s": round(window_tokens / (now - window_time), 1)}
                record |= {name: round(loss_sum / window_steps, 5) for name, loss_sum in window_aux.items()}
                record["kinds"] = dict(sorted(window_kinds.items()))
                _log(run_dir, record)
                window_tokens, window_time, window_loss, window_targets = 0, now, 0.0, 0
                window_aux, window_steps, window_kinds = {}, 0, Counter()
            out_of_time = s.max_minutes is not None and time.monotonic() - started > 60 * s.max_minutes
            if step % s.save_every == 0 or step == s.steps or out_of_time:
                _save(run_dir, model, tokenizer, optimizer, step, rng)
            if out_of_time:
                break
    plot_losses(run_dir)
    return run_dir / CHECKPOINT_DIR


def autocast(s: TrainSettings) -> torch.autocast:
    """The forward pass's precision: bfloat16 autocast for `--precision bf16`, float32 otherwise."""
    return torch.autocast(torch.device(s.device).type, dtype=torch.bfloat16, enabled=s.precision == "bf16")


def auxiliary_losses(config: SSRConfig, out) -> dict[str, tuple[float, torch.Tensor]]:
    """{name: (weight, value)} of the encoder's training-only losses the model's output holds."""
    weights = {"patch_loss": config.patch_loss_weight, "position_loss": config.position_loss_weight}
    return {name: (weight, out[name]) for name, weight in weights.items() if name in out}


def parameter_groups(model: SSRModel, s: TrainSettings) -> list[dict]:
    """The vision parts (ViT, geometry MLP, patch head) at lr × vision_lr_scale when they were pre-trained,
    the rest (projector, position head, pose MLP, LM) at lr. At full lr the LM's first gradients undid
    the pre-training (patch loss 0.23 → 0.6 in 50 steps, docs/MODEL.md run 4)."""
    vision, rest = [], []
    for name, parameter in model.named_parameters():
        is_vision = name.startswith("encoder.") and not name.startswith(("encoder.projector.", "encoder.position_head.",
                                                                          "encoder.pose_mlp."))
        (vision if is_vision else rest).append(parameter)
    scale = s.vision_lr_scale if s.encoder_epochs and model.config.patch_classes else 1.0
    return [{"params": rest, "lr_scale": 1.0}, {"params": vision, "lr_scale": scale}]


def pretrain_encoder(model: SSRModel, frames: FrameStore, s: TrainSettings, run_dir: Path, progress: bool,
                     batch_frames: int = 64) -> None:
    """The new encoder learns what it sees before the LM starts: the patch head's cross-entropy (and, with a
    position head, its loss at the config's weight) alone, over every keyframe of the training scenes
    (LLaVA-style models start from a pretrained vision tower; ours has none to download). Without it the
    LM learned its text priors while the encoder still knew little, and never came back to the frames
    (docs/MODEL.md, run 4)."""
    pixels, geometry, pose, labels = (np.concatenate(parts) for parts in zip(*(
        (batch.pixels, batch.geometry, batch.pose, frames.patch_labels[sid]) for sid, batch in frames.scenes.items())))
    optimizer = torch.optim.AdamW(model.encoder.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    rng = np.random.default_rng(s.seed)
    batches_per_epoch = math.ceil(len(pixels) / batch_frames)
    total = s.encoder_epochs * batches_per_epoch
    model.train()
    with tqdm(total=total, desc="encoder", unit="step", disable=not progress) as bar:
        for epoch in range(s.encoder_epochs):
            order = rng.permutation(len(pixels))
            sums: dict[str, float] = {}
            for k in range(batches_per_epoch):
                pick = np.sort(order[k * batch_frames:(k + 1) * batch_frames])
                step = epoch * batches_per_epoch + k
                for group in optimizer.param_groups:  # the stage's schedule shape, over these steps
                    group["lr"] = learning_rate(step, s.lr, total, s.warmup_steps)
                with autocast(s):
                    losses = encoder_losses(model, FrameBatch(pixels[pick], geometry[pick], pose[pick]),
                                            torch.from_numpy(labels[pick]).to(s.device), s.device)
                optimizer.zero_grad(set_to_none=True)
                sum(weight * value for weight, value in losses.values()).backward()
                optimizer.step()
                for name, (_, value) in losses.items():
                    sums[name] = sums.get(name, 0.0) + value.item()
                bar.update()
            _log(run_dir, {"stage": s.stage, "encoder_epoch": epoch + 1,
                           **{name: round(loss_sum / batches_per_epoch, 5) for name, loss_sum in sums.items()}})


def encoder_losses(model: SSRModel, frames: FrameBatch, patch_labels: torch.Tensor,
                   device: str) -> dict[str, tuple[float, torch.Tensor]]:
    """{name: (weight, value)} of the encoder's pre-training losses on `frames`: the patch head's at weight
    1, the position head's (when the model has one) at its config weight."""
    pixels, geometry, pose = frame_tensors(frames, device)
    patches = model.encoder.patch_features(pixels, geometry)
    losses = {"patch_loss": (1.0, model.encoder.patch_loss(patches, patch_labels))}
    if model.encoder.position_head is not None:
        tokens = model.encoder.tokens(patches, pose)
        losses["position_loss"] = (model.config.position_loss_weight, model.encoder.position_loss(tokens, geometry))
    return losses


def _log(out: Path, record: dict) -> None:
    with (out / LOG_FILE).open("a") as f:
        f.write(json.dumps(record) + "\n")


def _save(out: Path, model, tokenizer, optimizer, step: int, rng: random.Random) -> None:
    save_checkpoint(out / CHECKPOINT_DIR, model, tokenizer)
    tmp = out / (STATE_FILE + ".tmp")
    torch.save({"optimizer": optimizer.state_dict(), "step": step, "python_rng": rng.getstate(),
                "torch_rng": torch.get_rng_state()}, tmp)
    os.replace(tmp, out / STATE_FILE)


def plot_losses(out: Path) -> Path | None:
    """loss.png from train_log.jsonl (the training loss per logged step)."""
    log = out / LOG_FILE
    if not log.is_file():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    records = [r for r in records if "step" in r]  # encoder pre-training lines count epochs
    fig, ax = plt.subplots(figsize=(8, 4))
    for stage in sorted({r["stage"] for r in records}):
        rows = [r for r in records if r["stage"] == stage]
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label=f"stage {stage}")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (target tokens)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out / "loss.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
