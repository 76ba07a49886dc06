"""Placeholder: replaced by this package's commands."""


def register(subparsers) -> None:
    del subparsers
