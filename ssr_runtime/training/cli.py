"""`ssr train`: the two training stages of the SSR model (needs the `train` extra)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train the SSR model: stage 1 (structure), stage 2 (reasoning)",
                              description="Train one stage; rerunning with the same --out resumes it.")
    p.add_argument("--stage", type=int, choices=(1, 2), required=True)
    p.add_argument("--data", type=Path, required=True, help="folder of scans from `ssr data gen`")
    p.add_argument("--out", type=Path, required=True, help="output folder (checkpoint/, logs, loss.png)")
    p.add_argument("--config", default="small", help="model preset: small (CPU) or base (GPU)")
    p.add_argument("--fusion", default="add+interleave", choices=("2d", "add", "add+interleave"))
    p.add_argument("--pool", type=int, help="stage 1: patches pooled per side into one token (preset: 2)")
    p.add_argument("--token-norm", choices=("none", "batch"),
                   help="stage 1: normalisation of the visual tokens (preset: batch; docs/MODEL.md)")
    p.add_argument("--encoder-epochs", type=int, default=12,
                   help="stage 1: epochs of patch-label pre-training of the new encoder before the LM (0 = none)")
    p.add_argument("--vision-lr-scale", type=float, default=0.1,
                   help="learning-rate factor of the pre-trained vision parts (ViT, geometry MLP)")
    p.add_argument("--init", type=Path, help="stage 2: the stage-1 output folder")
    p.add_argument("--graphs", type=Path,
                   help="stage 2: a model's own graphs of the scans (`ssr read`); part of the questions are asked "
                        "over them")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--align-steps", type=int, default=0,
                   help="stage 1: the first steps train on label lists alone, so the LM learns to read its frames "
                        "before it writes structure (docs/MODEL.md, \"Reading first\")")
    p.add_argument("--batch-tokens", type=int, default=4096)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda (a GPU run of the same schedule)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"),
                   help="bf16: forward passes under bfloat16 autocast, weights stay float32 (fast on CPUs with "
                        "AVX512-BF16 or AMX, and on GPUs)")
    p.add_argument("--max-minutes", type=float, help="stop (and save) after this long")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from ssr_runtime.model.train import TrainSettings, train

    settings = TrainSettings(stage=args.stage, data=args.data, out=args.out, config=args.config, fusion=args.fusion,
                             pool=args.pool, token_norm=args.token_norm,
                             encoder_epochs=args.encoder_epochs, vision_lr_scale=args.vision_lr_scale,
                             init=args.init, graphs=args.graphs, steps=args.steps, align_steps=args.align_steps,
                             batch_tokens=args.batch_tokens,
                             lr=args.lr,
                             seed=args.seed, threads=args.threads, device=args.device, precision=args.precision,
                             max_minutes=args.max_minutes)
    checkpoint = train(settings, progress=not args.quiet)
    print(f"checkpoint: {checkpoint}")
    return 0
