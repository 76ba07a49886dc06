"""The encoder as a TensorRT engine (``encoder.fp16.engine``, written by ``ssr export --tensorrt``).

Run with the TensorRT Python API; device memory, copies and the stream through cuda-python
(``cuda.bindings.runtime``), so the runtime path still needs no torch. Chosen over ONNX Runtime's
TensorRT provider for this backend because the engine is built once, at export, from the float16
graph, checked there against torch and recorded in the manifest (TensorRT version, GPU, frame
range); loading it is a deserialisation, not a build. (``OnnxEncoder`` with the TensorRT provider
stays available as the ONNX Runtime route, with its own engine cache.)

Both need the ``tensorrt`` extra (tensorrt, cuda-python) and a CUDA GPU; ``tensorrt_missing`` says
what is absent. An engine only runs on the kind of GPU and the TensorRT version that built it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ssr_runtime.runtime.encoders import Encoder, EncoderShapes
from ssr_runtime.runtime.errors import BackendUnavailableError, ModelFileError

INPUT_NAMES = ("pixels", "geometry", "pose")
OUTPUT_NAME = "tokens"
INSTALL_HINT = "pip install 'ssr-runtime[tensorrt]'"


def tensorrt_missing() -> str | None:
    """Why a TensorRT engine cannot be built or run here (the first missing piece), or None."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return f"no `tensorrt` module ({INSTALL_HINT})"
    try:
        from cuda.bindings import runtime as cudart
    except ImportError:
        return f"no `cuda.bindings` module (cuda-python; {INSTALL_HINT})"
    error, count = cudart.cudaGetDeviceCount()
    if error != cudart.cudaError_t.cudaSuccess:
        return f"no CUDA device (cudaGetDeviceCount: {error.name})"
    if count == 0:
        return "no CUDA device"
    return None


def require_tensorrt(what: str) -> None:
    """Raise BackendUnavailableError naming what is missing for ``what`` (e.g. "export --tensorrt")."""
    reason = tensorrt_missing()
    if reason is not None:
        raise BackendUnavailableError(f"{what}: TensorRT unavailable: {reason}")


def cuda_check(result):
    """The values of a cuda-python call's (error, *values) result; RuntimeError naming the error."""
    from cuda.bindings import runtime as cudart

    error, *values = result
    if error != cudart.cudaError_t.cudaSuccess:
        raise RuntimeError(f"CUDA: {error.name}: {cudart.cudaGetErrorString(error)[1].decode()}")
    return values[0] if len(values) == 1 else values


def gpu_info() -> tuple[str, str]:
    """(name, compute capability "major.minor") of CUDA device 0."""
    from cuda.bindings import runtime as cudart

    props = cuda_check(cudart.cudaGetDeviceProperties(0))
    name = props.name.decode() if isinstance(props.name, bytes) else str(props.name)
    return name.rstrip("\x00"), f"{props.major}.{props.minor}"


class TensorRTEncoder(Encoder):
    """A serialized TensorRT engine of the encoder graph on CUDA device 0 (module docstring).

    Input and output buffers are allocated once, for the engine's largest frame count; ``encode``
    copies the frames in, runs on its own stream and copies the tokens back (float16 in the engine,
    float32 out). Not thread-safe: one call at a time (the Session's lock ensures it). ``close()``
    frees the device memory. Raises BackendUnavailableError when TensorRT or a GPU is missing,
    FileNotFoundError / ModelFileError naming the file when it is absent or TensorRT cannot load it
    (e.g. built by another TensorRT version or for another GPU), ValueError for a frame count outside
    the engine's range.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        require_tensorrt("encoder 'tensorrt'")
        import tensorrt as trt
        from cuda.bindings import runtime as cudart

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such TensorRT engine file")
        self._logger = trt.Logger(trt.Logger.ERROR)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
        if self.engine is None:
            raise ModelFileError(f"{self.path}: TensorRT {trt.__version__} cannot load this engine (corrupt, or "
                                 f"built by another TensorRT version or for another GPU; re-export with --tensorrt "
                                 f"on this machine)")
        names = {self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)}
        if names != {*INPUT_NAMES, OUTPUT_NAME}:
            raise ModelFileError(f"{self.path}: not an SSR encoder engine (tensors {sorted(names)})")
        self.context = self.engine.create_execution_context()
        profiles = {n: [tuple(shape) for shape in self.engine.get_tensor_profile_shape(n, 0)] for n in INPUT_NAMES}
        self.min_frames, self.max_frames = profiles["pixels"][0][0], profiles["pixels"][2][0]
        largest = {n: profiles[n][2] for n in INPUT_NAMES}
        largest[OUTPUT_NAME] = (self.max_frames, *tuple(self.engine.get_tensor_shape(OUTPUT_NAME))[1:])
        pixels, geometry, pose, tokens = largest.values()
        self.shapes = EncoderShapes(image_size=pixels[2], grid=geometry[1], geometry_features=geometry[3],
                                    pose_features=pose[1], tokens_per_frame=tokens[1], hidden_size=tokens[2])
        self._output_dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(OUTPUT_NAME)))
        self._stream = cuda_check(cudart.cudaStreamCreate())
        self._buffers = {}
        for name, shape in largest.items():
            itemsize = np.dtype(trt.nptype(self.engine.get_tensor_dtype(name))).itemsize
            self._buffers[name] = cuda_check(cudart.cudaMalloc(int(np.prod(shape)) * itemsize))
            self.context.set_tensor_address(name, int(self._buffers[name]))

    def _run(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
        from cuda.bindings import runtime as cudart

        if self._stream is None:
            raise ValueError(f"{self.path}: encoder is closed")
        frames = len(pixels)
        if not self.min_frames <= frames <= self.max_frames:
            raise ValueError(f"pixels: this engine takes {self.min_frames} to {self.max_frames} frames per call, "
                             f"got {frames} (set at export: ssr export --tensorrt)")
        for name, array in zip(INPUT_NAMES, (pixels, geometry, pose)):
            self.context.set_input_shape(name, array.shape)
            cuda_check(cudart.cudaMemcpyAsync(self._buffers[name], array.ctypes.data, array.nbytes,
                                              cudart.cudaMemcpyKind.cudaMemcpyHostToDevice, self._stream))
        out = np.empty(tuple(self.context.get_tensor_shape(OUTPUT_NAME)), dtype=self._output_dtype)
        if not self.context.execute_async_v3(int(self._stream)):
            raise RuntimeError(f"{self.path}: TensorRT execution failed")
        cuda_check(cudart.cudaMemcpyAsync(out.ctypes.data, self._buffers[OUTPUT_NAME], out.nbytes,
                                          cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost, self._stream))
        cuda_check(cudart.cudaStreamSynchronize(self._stream))
        return out.astype(np.float32, copy=False)

    def close(self) -> None:
        from cuda.bindings import runtime as cudart

        if self._stream is None:
            return
        for pointer in self._buffers.values():
            cudart.cudaFree(pointer)
        cudart.cudaStreamDestroy(self._stream)
        self._buffers, self._stream = {}, None

    def __del__(self) -> None:
        if getattr(self, "_stream", None) is not None:
            self.close()
