"""Running independent tasks (scenes) in worker processes with a progress bar."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")


def map_tasks(fn: Callable[[T], R], tasks: Sequence[T], workers: int, desc: str, unit: str = "scene",
              progress: bool = True) -> list[R]:
    """`[fn(t) for t in tasks]`, in task order, in `workers` spawned processes (in this one for 1).

    Spawned, not forked: a forked child would inherit open3d/TBB and torch thread state."""
    if workers < 1:
        raise ValueError(f"workers: expected >= 1, got {workers}")
    with tqdm(total=len(tasks), unit=unit, desc=desc, disable=not progress) as bar:
        if workers == 1:
            results = []
            for task in tasks:
                results.append(fn(task))
                bar.update()
            return results
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = []
            for result in pool.imap(fn, tasks):
                results.append(result)
                bar.update()
            return results
