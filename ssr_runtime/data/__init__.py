"""Synthetic RGB-D scans (procedural rooms rendered by ray casting), scene.json ground truth, and
readers for this format, ScanNet exports and TUM RGB-D. Layout and rules: docs/DATA.md."""

from __future__ import annotations

from pathlib import Path


def sample_scene_path() -> Path:
    """The folder of the small scene shipped with the package (320×240, 40 frames)."""
    return Path(__file__).parent / "sample"
