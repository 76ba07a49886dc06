"""The exception types the backends add."""


class ModelFileError(ValueError):
    """A model file (ONNX, GGUF, TensorRT engine) that is truncated, corrupt or of the wrong kind; the
    message names it."""


class BackendUnavailableError(RuntimeError):
    """A backend this machine cannot run (a missing module, no CUDA device, an onnxruntime build
    without the provider); the message names what is missing."""
