"""The `ssr` command line. Each command group lives beside the code it drives and registers itself
here; heavy imports (open3d, torch) happen inside the commands, so `ssr --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from ssr_runtime.runtime.errors import BackendUnavailableError

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
    """Runs one command. What the user can mend ends it with the message and status 1, not a traceback:
    bad input (the project's errors are ValueErrors naming the field, file or line), a missing or
    unreadable file, a backend this machine lacks."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, BackendUnavailableError) as e:
        subcommand = getattr(args, f"{args.command}_command", None)  # a group's (`ssr data gen`)
        print(f"ssr {args.command}{' ' + subcommand if subcommand else ''}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
