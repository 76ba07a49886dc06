"""Make a trained checkpoint the shipped default: `ssr_runtime/models/default-checkpoint/` (weights
rounded to float16, half the size) and its export `ssr_runtime/models/default/` (`ssr export --quant
f16,q8_0`), made from the rounded weights so that the checkpoint and the export hold the same model.

    .venv/bin/python scripts/ship_default.py RUN/stage2/checkpoint

The checkpoint folder is replaced whole once the new one is complete; the export replaces the files of
the earlier export (the manifest's sha256 sums catch a half-written one at load). Update
ssr_runtime/models/MODEL_CARD.md by hand: the command, data and figures of the run.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ssr_runtime.export.bundle import export_checkpoint
from ssr_runtime.model.modeling import ENCODER_FILE, LM_WEIGHTS_FILE, write_folder
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT, DEFAULT_MODEL



def rounded_copy(checkpoint: Path, target: Path) -> None:
    """The checkpoint folder with every floating-point weight stored as float16 (loaded back as float32)."""
    def write(folder: Path) -> None:
        for item in checkpoint.iterdir():
            if item.name in (ENCODER_FILE, LM_WEIGHTS_FILE):
                tensors = {name: t.half() if t.is_floating_point() else t for name, t in load_file(item).items()}
                save_file(tensors, folder / item.name, metadata={"format": "pt"})
            elif item.is_file():
                shutil.copy2(item, folder / item.name)

    write_folder(target, write)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="a checkpoint folder written by `ssr train`")
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    rounded_copy(args.checkpoint, DEFAULT_CHECKPOINT)
    export_checkpoint(DEFAULT_CHECKPOINT, DEFAULT_MODEL, quants=("f16", "q8_0"))  # replaces its files
    print(f"wrote {DEFAULT_CHECKPOINT} and {DEFAULT_MODEL}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
