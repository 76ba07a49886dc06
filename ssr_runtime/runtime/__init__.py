"""The runtime's inference backends (no torch on the runtime path).

Encoders turn frames into the tokens that fill ``<|vis|>`` slots: ``encoders.OnnxEncoder`` (ONNX
Runtime) and ``torch_backends.TorchEncoder`` (the reference). Language models continue one sequence
greedily with a KV cache: ``llama_lm.LlamaCppLM`` (llama.cpp, GGUF), ``onnx_lm.OnnxLM`` (ONNX Runtime,
exported through Optimum) and ``torch_backends.TorchLM`` (the reference); all follow
``lm.LanguageModel``. ``grammars`` holds the GBNF grammars that keep constrained output parseable.
Modules are imported on use, so importing this package loads neither onnxruntime, llama.cpp nor torch.
"""
