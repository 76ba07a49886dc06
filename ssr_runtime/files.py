"""Atomic file writes (a crash or a full disk leaves either the old file or the new one, never half),
JSON-lines reading with errors that name the line, and arrays as base64 text for JSON records."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (an exporter, a native
    library); on success the file is made world-readable and renamed onto `path`, on any error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the files written here are ordinary ones
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """A file opened on a temporary name beside `path` (`atomic_path`); synced before the rename."""
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path) as f:
        f.write(text)


def write_json_atomic(path: str | os.PathLike, record: object) -> None:
    write_text_atomic(path, json.dumps(record, indent=1))


def read_jsonl(path: str | os.PathLike, error: type[Exception] = ValueError) -> Iterator[tuple[str, object]]:
    """(where, record) for each non-blank line of a JSON-lines file; `where` is "PATH:LINE", for the
    caller's own field errors. A line that is not JSON raises `error` naming the line and column."""
    path = Path(path)
    with path.open() as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as e:
                raise error(f"{where}: column {e.colno}: {e.msg}") from None


def array_to_text(array: np.ndarray) -> str:
    """`array`'s bytes as base64 (C order); `array_from_text` with its dtype and shape reads it back."""
    return base64.b64encode(np.ascontiguousarray(array)).decode()


def array_from_text(text: str, dtype, shape) -> np.ndarray:
    """The array `array_to_text` wrote; a ValueError when the text does not hold `shape` of `dtype`."""
    flat = np.frombuffer(base64.b64decode(text, validate=True), dtype=dtype)
    if flat.size != int(np.prod(shape)):
        raise ValueError(f"expected {list(shape)} {np.dtype(dtype).name} values, got {flat.size}")
    return flat.reshape(shape).copy()
