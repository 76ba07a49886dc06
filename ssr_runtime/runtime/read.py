"""`ssr read`: stream every scan of a data folder through a model's `Session` and write the graph it
reads as GRAPHS/<scene_id>.json (`SceneGraph.to_json`, room outline included). These are the graphs the
model answers over at inference; stage 2 trains over them (`ssr train --stage 2 --graphs GRAPHS`,
docs/MODEL.md, "The engine's result fed back, and stage 2 over the model's own graphs")."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.eval.benchmark import scene_folders
from ssr_runtime.files import write_text_atomic


def register(subparsers) -> None:
    p = subparsers.add_parser("read", help="read every scan of a data folder into the model's scene graphs")
    p.add_argument("--data", type=Path, required=True, help="folder of scans (`ssr data gen`)")
    p.add_argument("--out", type=Path, required=True, help="output folder: one <scene_id>.json per scan")
    p.add_argument("--model", type=Path, help="an exported model folder (`ssr export`; default: the shipped one)")
    p.add_argument("--grounding", action=argparse.BooleanOptionalAction, default=None,
                   help="ground the graphs in the encoder's heads (runtime.grounding); default: when the export "
                        "has them (grounding.onnx); --no-grounding: the language model's graphs as written")
    p.set_defaults(func=_read)


def read_graphs(data: Path, out: Path, model: Path | None = None, progress: bool = True,
                grounding: bool | None = None) -> list[Path]:
    """Each scan of `data` streamed through a fresh Session over one loaded bundle, as `ssr eval
    --method runtime` streams it (no early read of a last, short window; `grounding` as for Session:
    None grounds when the export has the heads); returns the files written."""
    from ssr_runtime.runtime.bundle import load_bundle
    from ssr_runtime.runtime.session import DEFAULT_MODEL, Session

    folders = scene_folders(data)
    bundle = load_bundle(model or DEFAULT_MODEL)
    if grounding:
        bundle.grounding_heads()  # refused before the first scan, not in it
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for scene_id, folder in tqdm(folders.items(), desc="read", unit="scan", disable=not progress):
        session = Session(bundle, grounding=grounding)
        session.push_frames(iter_scene_frames(folder, with_instance=False))
        path = out / f"{scene_id}.json"
        write_text_atomic(path, session.graph.to_json())
        written.append(path)
    return written


def _read(args: argparse.Namespace) -> int:
    written = read_graphs(args.data, args.out, args.model, grounding=args.grounding)
    print(f"{len(written)} graphs in {args.out}")
    return 0
