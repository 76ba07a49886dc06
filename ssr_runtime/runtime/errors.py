"""The one exception type the backends add: a model file that exists but cannot be loaded."""


class ModelFileError(ValueError):
    """A model file (ONNX, GGUF) that is truncated, corrupt or of the wrong kind; the message names it."""
