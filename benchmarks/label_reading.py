"""Which object labels the encoder sees in a scan, and which the graphs read from it hold.

The encoder's patch head (training only; docs/MODEL.md, "Patch head") predicts each patch's label
class. Per scan of DATA, over its keyframes (as training picks them, `training.dataset.read_scan`):

- shown: a label covers at least `--min-patches` patches of the keyframes (the truth: instance masks);
- seen by the encoder: at least `--min-patches` patches give the label a probability of at least
  `--threshold`;
- held by a graph: the graph (`ssr read`, one `<scene_id>.json` per scan) has an object of the label.

The table gives, per label, the scans that show it, the encoder's recall and precision over those
scan-level label sets, and each graph folder's: where the encoder's recall is far above the graphs',
the frames' tokens carry a label the language model does not write.

    python benchmarks/label_reading.py --data BENCH --checkpoint RUN/stage1 add=RUN/graphs-bench
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ssr_runtime.data.categories import LABELS
from ssr_runtime.eval.benchmark import scene_folders
from ssr_runtime.files import write_text_atomic

from graph_quality import load_graph, named_folder  # noqa: E402  (benchmarks/ is this script's folder)

ALL = "all labels"


@dataclass
class SetCounts:
    """Scan-level label sets against the truth, per label: right (shown and found), missed, extra."""

    right: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)
    extra: Counter = field(default_factory=Counter)

    def add(self, found: set[str], shown: set[str]) -> None:
        self.right.update(found & shown)
        self.missed.update(shown - found)
        self.extra.update(found - shown)

    def recall(self, label: str | None = None) -> float:
        right, missed = _count(self.right, label), _count(self.missed, label)
        return right / (right + missed) if right + missed else float("nan")

    def precision(self, label: str | None = None) -> float:
        right, extra = _count(self.right, label), _count(self.extra, label)
        return right / (right + extra) if right + extra else float("nan")


def _count(counter: Counter, label: str | None) -> int:
    return sum(counter.values()) if label is None else counter[label]


def labels_shown(patch_labels: np.ndarray, min_patches: int) -> set[str]:
    """Labels covering at least `min_patches` patches (patch_labels: class per patch, 0 = none)."""
    counts = Counter(patch_labels.reshape(-1).tolist())
    return {LABELS[k - 1] for k, n in counts.items() if k and n >= min_patches}


def labels_seen(probabilities: np.ndarray, threshold: float, min_patches: int) -> set[str]:
    """Labels given at least `threshold` by at least `min_patches` patches (probabilities [..., classes],
    class 0 = none)."""
    hits = (probabilities.reshape(-1, probabilities.shape[-1]) >= threshold).sum(axis=0)
    return {LABELS[k - 1] for k in range(1, len(hits)) if hits[k] >= min_patches}


def patch_probabilities(encoder, scan) -> np.ndarray:
    """[keyframes, grid², classes]: the patch head's softmax on each keyframe of `scan`."""
    import torch

    from ssr_runtime.model.modeling import frame_tensors

    pixels, geometry, _ = frame_tensors(scan.frames)
    with torch.no_grad():
        return encoder.patch_head(encoder.patch_features(pixels, geometry)).softmax(-1).numpy()


def score(data: Path, checkpoint: Path, graphs: dict[str, Path], threshold: float, min_patches: int,
          progress: bool = True) -> tuple[Counter, dict[str, SetCounts]]:
    """(scans showing each label, {'encoder' or a graph folder's name: its SetCounts})."""
    from ssr_runtime.model import SSRModel
    from ssr_runtime.training.dataset import read_scan

    encoder = SSRModel.from_pretrained(checkpoint).encoder.eval()
    if encoder.patch_head is None:
        raise ValueError(f"{checkpoint}: this model has no patch head (SSRConfig.patch_classes = 0)")
    shown_in, counts = Counter(), {name: SetCounts() for name in ["encoder", *graphs]}
    for scene_id, folder in tqdm(scene_folders(data).items(), desc="scans", unit="scan", disable=not progress):
        scan = read_scan(folder)
        shown = labels_shown(scan.patch_labels, min_patches)
        shown_in.update(shown)
        counts["encoder"].add(labels_seen(patch_probabilities(encoder, scan), threshold, min_patches), shown)
        for name, folder_of_graphs in graphs.items():
            counts[name].add({o.label for o in load_graph(folder_of_graphs, scene_id).objects}, shown)
    return shown_in, counts


def rows(shown_in: Counter, counts: dict[str, SetCounts]) -> dict[str, dict[str, float]]:
    """{label: {'scans': n, '<name> recall': r, '<name> precision': p, ...}}, commonest label first,
    then every label together (ALL)."""
    table = {}
    for label in [*(label for label, _ in shown_in.most_common()), ALL]:
        row = {"scans": float(sum(shown_in.values()) if label == ALL else shown_in[label])}
        key = None if label == ALL else label
        for name, sets in counts.items():
            row[f"{name} recall"], row[f"{name} precision"] = sets.recall(key), sets.precision(key)
        table[label] = row
    return table


def markdown(table: dict[str, dict[str, float]]) -> str:
    columns = list(next(iter(table.values())))
    lines = ["| label | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for label, row in table.items():
        cells = [f"{row[c]:.0f}" if c == "scans" else f"{row[c]:.2f}" for c in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("graphs", nargs="*", type=named_folder, help="NAME=GRAPHS: a folder from `ssr read`")
    p.add_argument("--data", type=Path, required=True, help="scans with instance masks (`ssr data gen`)")
    p.add_argument("--checkpoint", type=Path, required=True, help="a training checkpoint with a patch head")
    p.add_argument("--threshold", type=float, default=0.5, help="patch probability that counts as seeing a label")
    p.add_argument("--min-patches", type=int, default=2, help="patches a label needs, shown or seen")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    if not 0 < args.threshold <= 1 or args.min_patches < 1:
        p.error("--threshold: expected a probability in (0, 1]; --min-patches: expected >= 1")
    if "encoder" in dict(args.graphs):
        p.error("graphs: 'encoder' names the patch head's column; call the folder otherwise")
    try:
        shown_in, counts = score(args.data, args.checkpoint, dict(args.graphs), args.threshold, args.min_patches)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    table = rows(shown_in, counts)
    print(f"{len(scene_folders(args.data))} scans of {args.data}; a label counts with {args.min_patches} patches "
          f"(seen: probability >= {args.threshold})\n")
    print(markdown(table))
    if args.json:
        write_text_atomic(args.json, json.dumps(table, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
