"""The runtime's inference backends (no torch on the runtime path).

Encoders turn frames into the tokens that fill ``<|vis|>`` slots: ``encoders.OnnxEncoder`` (ONNX
Runtime), ``tensorrt_encoder.TensorRTEncoder`` (the TensorRT engine of ``ssr export --tensorrt``) and
``torch_backends.TorchEncoder`` (the reference); ``bundle.open_encoder`` picks one by name. Language
models continue one sequence greedily with a KV cache: ``llama_lm.LlamaCppLM`` (llama.cpp, GGUF),
``onnx_lm.OnnxLM`` (ONNX Runtime, exported through Optimum) and ``torch_backends.TorchLM`` (the
reference); all follow ``lm.LanguageModel``. ``grammars`` holds the GBNF grammars that keep
constrained output parseable. Modules are imported on use, so importing this package loads neither
onnxruntime, TensorRT, llama.cpp nor torch.
"""
