"""`ssr data ...`: generate synthetic scans and inspect scene folders (docs/DATA.md)."""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path


def _image_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or min(int(match[1]), int(match[2])) < 8:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT with both at least 8, e.g. 320x240, got {text!r}")
    return int(match[1]), int(match[2])


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value
    return parse


_positive = _at_least(1)


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="synthetic RGB-D scans: generate, inspect")
    commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")

    gen = commands.add_parser("gen", help="generate furnished rooms and render walk-around scans")
    gen.add_argument("--out", required=True, type=Path, help="output folder (one sub-folder per scene + index.json)")
    gen.add_argument("--scenes", type=_positive, default=1, help="number of scenes (default 1)")
    gen.add_argument("--frames", type=_positive, default=60, help="frames per scene (default 60)")
    gen.add_argument("--size", type=_image_size, default=(320, 240), help="image WIDTHxHEIGHT (default 320x240)")
    gen.add_argument("--seed", type=_at_least(0), default=0, help="scene i uses seed SEED + i (default 0)")
    gen.add_argument("--workers", type=_positive, default=1, help="processes generating scenes in parallel")
    gen.add_argument("--noise", action="store_true", help="add depth noise and holes and colour noise")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_gen)

    info = commands.add_parser("info", help="summarise a scene folder or a generated dataset folder")
    info.add_argument("path", type=Path)
    info.add_argument("--json", action="store_true", help="print the summary as JSON")
    info.set_defaults(func=_info)


def _gen(args) -> int:
    from ssr_runtime.data.generate import GenerationSettings, generate_dataset

    width, height = args.size
    settings = GenerationSettings(frames=args.frames, width=width, height=height, noise=args.noise)
    entries = generate_dataset(args.out, args.scenes, args.seed, settings, args.workers, progress=not args.quiet)
    print(f"{len(entries)} scenes in {args.out} (index: {args.out / 'index.json'})")
    return 0


def _info(args) -> int:
    from ssr_runtime.data.scene import Scene

    path: Path = args.path
    if (path / "index.json").is_file():
        summary = _dataset_summary(path, json.loads((path / "index.json").read_text()))
    else:
        summary = _scene_summary(Scene.load(path))
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for key, value in summary.items():
            print(f"{key:>16}: {value}")
    return 0


def _scene_summary(scene) -> dict:
    counts = Counter(o.label for o in scene.objects)
    return {
        "scene_id": scene.scene_id, "seed": scene.seed, "room_type": scene.extras.get("room_type"),
        "room_area_m2": round(scene.room.area_m2, 2), "room_height_m": scene.room.height,
        "image": f"{scene.camera.width}x{scene.camera.height}", "frames": len(scene.frames),
        "duration_s": scene.frames[-1].t if scene.frames else 0.0, "objects": len(scene.objects),
        "never_seen": sum(o.first_seen_t is None for o in scene.objects),
        "labels": dict(sorted(counts.items())),
    }


def _dataset_summary(folder: Path, index: dict) -> dict:
    scenes = index.get("scenes", [])
    return {
        "folder": str(folder), "scenes": len(scenes), "frames": sum(e.get("frames", 0) for e in scenes),
        "objects": sum(e.get("objects", 0) for e in scenes),
        "room_types": dict(sorted(Counter(e.get("room_type") for e in scenes).items())),
        "generator": index.get("generator"),
    }
