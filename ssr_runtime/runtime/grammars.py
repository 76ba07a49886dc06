"""GBNF grammars (llama.cpp) for what the language model writes, so constrained decoding always yields
text that ``_core.parse_document`` accepts.

They follow the grammar of docs/FORMATS.md, narrowed where that grammar cannot express a value rule
or where a bounded length keeps a runaway model from writing forever:

- numbers are written canonically: two decimals as the serializer writes them, no leading zeros, at
  most MAX_INTEGER_DIGITS before the point (far below the parser's 32 characters); box sizes l, w, h
  are positive, so never `0.00`;
- labels are at most MAX_LABEL_CHARS long (or one of the given labels), object numbers 1..999999;
- a window writes at most ``max_elements`` lines, so generation under the grammar always ends.

Predicates come from the C++ core (``_core.PREDICATES``), so a predicate the parser knows is the
grammar's too.
"""

from __future__ import annotations

from collections.abc import Iterable

from ssr_runtime import _core

ROOT = "root"
MAX_LABEL_CHARS = 24
MAX_INTEGER_DIGITS = 4
DEFAULT_MAX_ELEMENTS = 64
ANSWER_UNITS = ("m", "cm", "m2")

_NUMBERS = rf"""
sp      ::= " "
num     ::= "-"? int "." [0-9] [0-9]
int     ::= "0" | [1-9] [0-9]{{0,{MAX_INTEGER_DIGITS - 1}}}
"""
_BOX_VALUES = rf"""
id      ::= label "#" [1-9] [0-9]{{0,5}}
pos     ::= [1-9] [0-9]{{0,{MAX_INTEGER_DIGITS - 1}}} "." [0-9] [0-9] | "0." ([1-9] [0-9] | "0" [1-9])
"""


def _alternatives(words: Iterable[str]) -> str:
    return " | ".join(f'"{w}"' for w in words)


def _label_rule(labels: Iterable[str] | None) -> str:
    if labels is None:
        return f"label   ::= [a-z] [a-z0-9_]{{0,{MAX_LABEL_CHARS - 1}}}\n"
    labels = sorted(set(labels))
    bad = [label for label in labels if not _core_label(label)]
    if not labels or bad:
        raise ValueError(f"labels: expected a non-empty list of labels [a-z][a-z0-9_]*, got {bad or labels!r}")
    return f"label   ::= {_alternatives(labels)}\n"


def _core_label(label: str) -> bool:
    return bool(label) and label[0].islower() and label.isascii() and all(
        c.islower() or c.isdigit() or c == "_" for c in label)


def window_grammar(labels: Iterable[str] | None = None, max_elements: int = DEFAULT_MAX_ELEMENTS) -> str:
    """Stage-1 window output: up to ``max_elements`` lines, each a `<box>` or a `<tri>`, one per line,
    then the end (the model's end-of-text token). ``labels`` restricts object labels to these
    (e.g. ``ssr_runtime.data.categories.LABELS``)."""
    if max_elements < 1:
        raise ValueError(f"max_elements: must be >= 1, got {max_elements}")
    return (f'{ROOT}    ::= (line ("\\n" line){{0,{max_elements - 1}}})?\n'
            "line    ::= box | tri\n"
            'box     ::= "<box>" sp id sp "x=" num sp "y=" num sp "z=" num sp "l=" pos sp "w=" pos sp "h=" pos sp '
            '"yaw=" num sp "</box>"\n'
            'tri     ::= "<tri>" sp id sp pred sp id sp "dx=" num sp "dy=" num sp "dz=" num sp "</tri>"\n'
            f"pred    ::= {_alternatives(_core.PREDICATES)}\n"
            + _label_rule(labels) + _BOX_VALUES + _NUMBERS)


def answer_grammar() -> str:
    """A stage-2 direct answer: `<ans> NUMBER [UNIT] </ans>` or `<ans> LETTER </ans>`, then the end."""
    return (f'{ROOT}    ::= "<ans>" sp (num (sp unit)? | [A-Z]) sp "</ans>"\n'
            f"unit    ::= {_alternatives(ANSWER_UNITS)}\n" + _NUMBERS)
