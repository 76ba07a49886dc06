"""Encoder backends: frames → the fused tokens that fill ``<|vis|>`` slots.

Interface (``Encoder.encode``): pixels uint8 [N,3,S,S] (0..255) or float32 in [0,1], geometry
float32 [N,G,G,7] (``pool_patches`` layout), pose float32 [N,12] (top three rows of T_wc) →
float32 [N, tokens_per_frame, hidden_size]. Inputs are checked (dtype, shape, finite) before any
work, with a ValueError naming the argument. ``OnnxEncoder`` runs the exported graph under ONNX
Runtime (no torch); ``tensorrt_encoder.TensorRTEncoder`` runs the TensorRT engine of
``ssr export --tensorrt``; ``torch_backends.TorchEncoder`` is the reference.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr_runtime.runtime.errors import BackendUnavailableError, ModelFileError

# Fastest first; the first one available in this onnxruntime build is used.
PREFERRED_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
# ONNX Runtime's CPU SkipLayerNormalization kernel ran the encoder's final residual add + LayerNorm in
# about 170 µs per 4-frame window where the unfused Add and LayerNormalization take about 40 µs
# (onnxruntime 1.32, one thread, its profiler); so on the CPU that fusion is turned off.
CPU_DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


@dataclass(frozen=True)
class EncoderShapes:
    image_size: int
    grid: int
    geometry_features: int
    pose_features: int
    tokens_per_frame: int
    hidden_size: int


class Encoder(ABC):
    shapes: EncoderShapes

    @property
    def tokens_per_frame(self) -> int:
        return self.shapes.tokens_per_frame

    @property
    def hidden_size(self) -> int:
        return self.shapes.hidden_size

    def encode(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Frames → float32 [N, tokens_per_frame, hidden_size] (see the module docstring)."""
        return self._run(*check_frames(self.shapes, pixels, geometry, pose))

    @abstractmethod
    def _run(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Checked float32 frames → tokens."""


def check_frames(shapes: EncoderShapes, pixels: np.ndarray, geometry: np.ndarray,
                 pose: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frames as contiguous float32 arrays, pixels scaled to [0,1] when given as uint8.

    Refused with ValueError: a non-array, a dtype other than uint8/float32 (pixels) or float32 (the
    others; float64 too, rather than silently rounded), a wrong shape, no frames, NaN or inf.
    """
    s = shapes
    frames = pixels.shape[0] if isinstance(pixels, np.ndarray) and pixels.ndim else 0
    expected = {"pixels": (pixels, (np.uint8, np.float32), [frames, 3, s.image_size, s.image_size]),
                "geometry": (geometry, (np.float32,), [frames, s.grid, s.grid, s.geometry_features]),
                "pose": (pose, (np.float32,), [frames, s.pose_features])}
    for name, (array, dtypes, shape) in expected.items():
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{name}: expected a numpy array, got {type(array).__name__}")
        if array.dtype not in dtypes:
            names = " or ".join(np.dtype(d).name for d in dtypes)
            raise ValueError(f"{name}: expected dtype {names}, got {array.dtype}")
        if list(array.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {list(array.shape)}")
        if array.dtype == np.float32 and not np.isfinite(array).all():
            raise ValueError(f"{name}: holds NaN or inf")
    if frames == 0:
        raise ValueError("pixels: expected at least one frame, got shape [0, ...]")
    return tuple(np.ascontiguousarray(a) for a in (unit_pixels(pixels), geometry, pose))


def unit_pixels(pixels: np.ndarray) -> np.ndarray:
    """Pixels as the encoder graphs take them: float32 in [0, 1] (uint8 0..255 scaled, float32 as is)."""
    return pixels.astype(np.float32) / np.float32(255.0) if pixels.dtype == np.uint8 else pixels


def choose_providers(available: list[str], requested: list[str] | None = None) -> list[str]:
    """The providers to run with: ``requested`` (each must be available, else BackendUnavailableError
    naming it), or the first available of PREFERRED_PROVIDERS followed by the CPU as fallback for
    operators it lacks."""
    if requested is not None:
        if not requested:
            raise ValueError("providers: expected at least one ONNX Runtime execution provider")
        missing = [p for p in requested if p not in available]
        if missing:
            raise BackendUnavailableError(f"providers: {missing} not available in this onnxruntime "
                                          f"(available: {', '.join(available)})")
        return list(requested)
    return with_cpu_fallback(next(p for p in PREFERRED_PROVIDERS if p in available))


def with_cpu_fallback(provider: str) -> list[str]:
    """`provider`, then the CPU for the operators it lacks."""
    return list(dict.fromkeys([provider, "CPUExecutionProvider"]))


def open_session(path: Path, providers: list[str] | None, threads: int,
                 provider_options: dict[str, dict] | None = None, cpu_disabled_optimizers: tuple[str, ...] = ()):
    """An ONNX Runtime session on ``path`` (``threads`` intra-op threads, providers as ``choose_providers``),
    with ``provider_options`` ({provider: options}) for those of the chosen providers it names; on the
    CPU provider, ``cpu_disabled_optimizers`` are turned off. Raises FileNotFoundError / ModelFileError
    naming the file when it is missing or not loadable, BackendUnavailableError when ``providers`` were
    requested and ONNX Runtime fell back from the first one (it only warns)."""
    import onnxruntime as ort

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such ONNX file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: the fallback of unsupported nodes to the CPU is expected
    chosen = choose_providers(ort.get_available_providers(), providers)
    disabled = list(cpu_disabled_optimizers) if chosen[0] == "CPUExecutionProvider" else []
    try:
        session = ort.InferenceSession(str(path), options, providers=chosen,
                                       provider_options=[(provider_options or {}).get(p, {}) for p in chosen],
                                       disabled_optimizers=disabled)
    except Exception as e:  # onnxruntime raises its own, unrelated classes for unreadable files
        raise ModelFileError(f"{path}: ONNX Runtime cannot load this file ({type(e).__name__}: {e})") from None
    if providers is not None and session.get_providers()[0] != chosen[0]:
        raise BackendUnavailableError(f"{path}: ONNX Runtime could not start {chosen[0]} (it fell back to "
                                      f"{', '.join(session.get_providers())}; its log says why)")
    return session


def tensorrt_provider_options(path: Path, trt_cache_dir: str | os.PathLike | None) -> dict[str, str]:
    """The encoder's options for ONNX Runtime's TensorRT provider: float16, engines and timing cache in
    ``trt_cache_dir`` (default: ``tensorrt_cache_dir(path)``)."""
    cache = Path(trt_cache_dir) if trt_cache_dir is not None else tensorrt_cache_dir(path)
    cache.mkdir(parents=True, exist_ok=True)
    return {"trt_fp16_enable": "True", "trt_engine_cache_enable": "True", "trt_engine_cache_path": str(cache),
            "trt_timing_cache_enable": "True", "trt_timing_cache_path": str(cache)}


class OnnxEncoder(Encoder):
    """The exported encoder graph (``encoder.onnx``) under ONNX Runtime.

    Shapes come from the graph itself (the frame axis is its one dynamic dimension). threads: ONNX
    Runtime intra-op threads. With ONNX Runtime's TensorRT provider the graph runs in float16 and the
    engines it builds (one per new range of frame counts) are cached in ``trt_cache_dir`` (default:
    ``tensorrt_cache_dir(path)``), so only the first session on a machine pays for the build.
    Raises FileNotFoundError / ModelFileError naming the file when it is missing or not a loadable
    encoder graph, BackendUnavailableError when a requested provider is not in this onnxruntime or
    cannot start here.
    """

    def __init__(self, path: str | os.PathLike, providers: list[str] | None = None, threads: int = 2,
                 trt_cache_dir: str | os.PathLike | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        trt = "TensorrtExecutionProvider"
        options = {trt: tensorrt_provider_options(self.path, trt_cache_dir)} \
            if trt in choose_providers(ort.get_available_providers(), providers) else None
        self.session = open_session(self.path, providers, threads, options, CPU_DISABLED_OPTIMIZERS)
        self.providers = self.session.get_providers()
        self.shapes = self._graph_shapes()

    def _graph_shapes(self) -> EncoderShapes:
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = self.session.get_outputs()
        if set(inputs) != {"pixels", "geometry", "pose"} or len(outputs) != 1 or outputs[0].name != "tokens":
            raise ModelFileError(f"{self.path}: not an SSR encoder graph (inputs {sorted(inputs)}, "
                                 f"outputs {[o.name for o in outputs]})")
        pixels, geometry, pose, tokens = inputs["pixels"], inputs["geometry"], inputs["pose"], outputs[0].shape
        return EncoderShapes(image_size=pixels[2], grid=geometry[1], geometry_features=geometry[3],
                             pose_features=pose[1], tokens_per_frame=tokens[1], hidden_size=tokens[2])

    def _run(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
        out = self.session.run(["tokens"], {"pixels": pixels, "geometry": geometry, "pose": pose})[0]
        return np.asarray(out, dtype=np.float32)


def tensorrt_cache_dir(onnx_path: str | os.PathLike) -> Path:
    """Where ONNX Runtime's TensorRT provider caches engines for this graph: under the user's cache
    folder (an export folder may be read-only), keyed by the file's sha256, since the provider's own
    cache key does not see changed weights."""
    from ssr_runtime.export.manifest import sha256_file

    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "ssr-runtime" / "ort-tensorrt" / sha256_file(onnx_path)[:16]
