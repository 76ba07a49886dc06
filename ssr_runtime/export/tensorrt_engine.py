"""The float16 encoder graph → a TensorRT engine (``ssr export --tensorrt``).

Built from ``encoder.fp16.onnx`` as a strongly typed network: the precision is the graph's (float16
weights and activations, float32 inputs, float16 output), which is how TensorRT 11 builds reduced
precision (it removed the FP16 builder flag) and what TensorRT 10 does with the STRONGLY_TYPED flag.
One optimisation profile covers 1 to 16 frames per call, tuned for the runtime's 4-frame windows.
The engine runs only under the TensorRT version and on the kind of GPU that built it; both are
recorded (``build_engine``'s return value goes into the manifest).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ssr_runtime.export.onnx_encoder import torch_tokens
from ssr_runtime.files import atomic_path
from ssr_runtime.runtime.tensorrt_encoder import INPUT_NAMES, TensorRTEncoder, gpu_info, require_tensorrt

FRAMES = {"min": 1, "opt": 4, "max": 16}  # frames per encode call the engine accepts / is tuned for
WORKSPACE_BYTES = 1 << 30


def build_engine(onnx_path: str | os.PathLike, engine_path: str | os.PathLike, input_shapes: dict[str, list]) -> dict:
    """Write the engine of ``onnx_path`` (the float16 encoder graph) to ``engine_path`` atomically.

    input_shapes: the manifest's {input: ["frames", ...]} (the frame axis is replaced by FRAMES).
    Returns what the manifest records: TensorRT version, GPU, frame range. Raises
    BackendUnavailableError when TensorRT or a GPU is missing, ValueError with the parser's or
    builder's messages when the graph cannot be built.
    """
    require_tensorrt("--tensorrt")
    import tensorrt as trt

    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ValueError(f"--tensorrt: TensorRT {trt.__version__} cannot parse {onnx_path.name}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    profile = builder.create_optimization_profile()
    for name in INPUT_NAMES:
        rest = input_shapes[name][1:]
        profile.set_shape(name, *((FRAMES[k], *rest) for k in ("min", "opt", "max")))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ValueError(f"--tensorrt: TensorRT {trt.__version__} could not build an engine from "
                         f"{onnx_path.name} (its log above says why)")
    with atomic_path(engine_path) as staging:
        staging.write_bytes(bytes(serialized))
    gpu, capability = gpu_info()
    return {"file": engine_path.name, "source": onnx_path.name, "precision": "fp16",
            "tensorrt_version": trt.__version__, "gpu": gpu, "compute_capability": capability, "frames": dict(FRAMES)}


def max_abs_diff(encoder, engine_path: str | os.PathLike, pixels: np.ndarray, geometry: np.ndarray,
                 pose: np.ndarray) -> float:
    """Largest |TensorRT engine − torch| over the encoder's outputs for these frames (torch in float32)."""
    expected = torch_tokens(encoder, pixels, geometry, pose)
    engine = TensorRTEncoder(engine_path)
    try:
        actual = engine.encode(pixels, geometry, pose)
    finally:
        engine.close()
    return float(np.abs(actual - expected).max())
