"""The `ssr` command line. Each command group lives beside the code it drives and registers itself
here; heavy imports (open3d, torch) happen inside the commands, so `ssr --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules with a `register(subparsers)` that adds their commands.
_COMMAND_MODULES = ("ssr_runtime.data.cli", "ssr_runtime.training.cli", "ssr_runtime.eval.cli", "ssr_runtime.export.cli",
                    "ssr_runtime.runtime.demo", "ssr_runtime.runtime.profile", "ssr_runtime.runtime.read")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ssr", description="SSR runtime: structured scene reasoning on the edge")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
