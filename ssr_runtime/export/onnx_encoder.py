"""The fusion encoder → ONNX, run under ONNX Runtime, and compared with torch.

Graph contract (the runtime feeds it without torch): inputs ``pixels`` float32 [N,3,S,S] in [0,1],
``geometry`` float32 [N,G,G,7], ``pose`` float32 [N,12]; output ``tokens`` [N, tokens_per_frame,
hidden_size], float32 (float16 in the ``fp16`` variant, whose inputs stay float32: the encoder casts
them itself). N, the number of frames, is the one dynamic axis. Only ``FusionEncoder.forward`` is
exported, so heads used only in training never reach the graph.

Exported with the torch.export-based exporter (``torch.onnx.export(..., dynamo=True)``, onnxscript):
unlike the deprecated TorchScript tracer it keeps the token axis static in the output's shape
(``[frames, tokens_per_frame, hidden]``), so a runtime can size buffers from the graph alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ssr_runtime.files import atomic_path

# Opset 20 has a Gelu operator: each MLP's GELU is one node (one ONNX Runtime kernel, fused with the
# bias add) instead of five elementwise ones. TensorRT 10 and 11 parse opset 20.
OPSET = 20
MAX_FRAMES = 4096  # upper bound torch.export needs for the symbolic frame axis
INPUT_NAMES = ("pixels", "geometry", "pose")
OUTPUT_NAME = "tokens"
GROUNDING_OUTPUTS = ("cell_labels", "cell_xyz")  # export_grounding: [N, cells, patch_classes], [N, cells, 3]
FRAMES_AXIS = "frames"


def input_shapes(config) -> dict[str, list]:
    """The ONNX inputs' shapes, with the frame axis named ``frames``."""
    side, grid = config.image_size, config.grid
    return {"pixels": [FRAMES_AXIS, 3, side, side], "geometry": [FRAMES_AXIS, grid, grid, config.geometry_features],
            "pose": [FRAMES_AXIS, config.pose_features]}


def output_shapes(config) -> dict[str, list]:
    return {OUTPUT_NAME: [FRAMES_AXIS, config.tokens_per_frame, config.hidden_size]}


def grounding_shapes(config) -> dict[str, list]:
    cells = config.visual_tokens_per_frame
    return dict(zip(GROUNDING_OUTPUTS, ([FRAMES_AXIS, cells, config.patch_classes], [FRAMES_AXIS, cells, 3])))


def example_frames(config, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random float32 frames of the encoder's input shapes: pixels in [0,1], geometry and pose ~ N(0,1)."""
    rng = np.random.default_rng(seed)
    side, grid = config.image_size, config.grid
    pixels = rng.random((count, 3, side, side), dtype=np.float32)
    geometry = rng.standard_normal((count, grid, grid, config.geometry_features), dtype=np.float32)
    pose = rng.standard_normal((count, config.pose_features), dtype=np.float32)
    return pixels, geometry, pose


def export_encoder(encoder, path: str | os.PathLike, fp16: bool = False) -> Path:
    """Write ``encoder`` (a FusionEncoder) as one self-contained ONNX file; checked with
    ``onnx.checker`` before it appears at ``path``. fp16: weights and activations in float16, inputs
    still float32.
    """
    import copy

    module = copy.deepcopy(encoder).eval()
    return _export(module.half() if fp16 else module, encoder.config, path, [OUTPUT_NAME])


def export_grounding(encoder, path: str | os.PathLike) -> Path:
    """Write the encoder's grounding heads (``FusionEncoder.grounding``: per-cell label probabilities
    and world xyz, outputs GROUNDING_OUTPUTS) as one float32 ONNX file with the encoder's inputs."""
    import copy

    from torch import nn

    class Grounding(nn.Module):
        def __init__(self, fusion_encoder) -> None:
            super().__init__()
            self.encoder = fusion_encoder

        def forward(self, pixels, geometry, pose):
            return self.encoder.grounding(pixels, geometry, pose)

    return _export(Grounding(copy.deepcopy(encoder).eval()).eval(), encoder.config, path, list(GROUNDING_OUTPUTS))


def _export(module, config, path: str | os.PathLike, output_names: list[str]) -> Path:
    import onnx
    import torch

    path = Path(path)
    example = tuple(torch.from_numpy(a) for a in example_frames(config, 2))
    frames = torch.export.Dim(FRAMES_AXIS, min=1, max=MAX_FRAMES)
    with atomic_path(path) as staging, torch.no_grad(), _quiet_exporter():
        program = torch.onnx.export(module, example, input_names=list(INPUT_NAMES), output_names=output_names,
                                    dynamic_shapes=tuple({0: frames} for _ in INPUT_NAMES), opset_version=OPSET,
                                    dynamo=True, verbose=False)
        program.save(str(staging), external_data=False)
        onnx.checker.check_model(onnx.load(str(staging)), full_check=True)
    return path


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The torch.export-based exporter logs optional torchvision ops it skips and warns about
    internals; the graph is checked (onnx.checker, and against torch by the caller) instead."""
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    previous = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message="# The axis name", category=UserWarning)
            yield
    finally:
        registration.setLevel(previous)


def onnx_session(path: str | os.PathLike, threads: int = 2):
    """An ONNX Runtime CPU session for an exported encoder."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(session, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """Encoder tokens [N, tokens_per_frame, hidden_size] from float32 frames, as float32."""
    feeds = {"pixels": pixels, "geometry": geometry, "pose": pose}
    for name, array in feeds.items():
        if array.dtype != np.float32:
            raise ValueError(f"{name}: expected float32, got {array.dtype}")
    return np.asarray(session.run([OUTPUT_NAME], feeds)[0], dtype=np.float32)


def torch_tokens(encoder, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """The encoder's float32 output for these frames under torch, in eval mode (its mode is restored)."""
    return _in_eval(encoder, encoder.forward, pixels, geometry, pose)[0]


def _in_eval(encoder, method, *frames: np.ndarray) -> list[np.ndarray]:
    """`method`'s float32 output(s) for these frames, `encoder` in eval mode meanwhile (its mode is restored)."""
    import torch

    was_training = encoder.training
    try:
        encoder.eval()
        with torch.no_grad():
            out = method(*(torch.from_numpy(a) for a in frames))
    finally:
        encoder.train(was_training)
    return [t.float().numpy() for t in (out if isinstance(out, tuple) else (out,))]


def grounding_max_abs_diff(encoder, onnx_path: str | os.PathLike, pixels: np.ndarray, geometry: np.ndarray,
                           pose: np.ndarray) -> float:
    """Largest |ONNX Runtime − torch| over the grounding outputs for these frames."""
    expected = _in_eval(encoder, encoder.grounding, pixels, geometry, pose)
    feeds = {"pixels": pixels, "geometry": geometry, "pose": pose}
    actual = onnx_session(onnx_path).run(list(GROUNDING_OUTPUTS), feeds)
    return max(float(np.abs(a - e).max()) for a, e in zip(actual, expected))


def max_abs_diff(encoder, onnx_path: str | os.PathLike, pixels: np.ndarray, geometry: np.ndarray,
                 pose: np.ndarray) -> float:
    """Largest |ONNX Runtime − torch| over the encoder's outputs for these frames (torch in float32)."""
    expected = torch_tokens(encoder, pixels, geometry, pose)
    actual = run_onnx(onnx_session(onnx_path), pixels, geometry, pose)
    if actual.shape != expected.shape:
        raise ValueError(f"ONNX output shape {list(actual.shape)} differs from torch's {list(expected.shape)}")
    return float(np.abs(actual - expected).max())
