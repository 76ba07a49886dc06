"""Evaluation methods, one module each, found by `ssr_runtime.eval.harness.available_methods`.

Each module defines `create(options: MethodOptions) -> Method`; see `ssr_runtime.eval.harness`.
"""
