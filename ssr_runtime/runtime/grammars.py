"""GBNF grammars (llama.cpp) for what the language model writes, so constrained decoding always yields
text that ``_core.parse_document`` accepts.

They follow the grammar of docs/FORMATS.md, narrowed where that grammar cannot express a value rule
or where a bounded length keeps a runaway model from writing forever:

- numbers are written canonically: two decimals as the serializer writes them, no leading zeros, at
  most MAX_INTEGER_DIGITS before the point (far below the parser's 32 characters); box sizes l, w, h
  are positive, so never `0.00`;
- labels are at most MAX_LABEL_CHARS long (or one of the given labels), object numbers 1..999999;
- a window writes at most ``max_elements`` lines, so generation under the grammar always ends;
- a scaffold writes at most SCAFFOLD_MAX_CHARS characters, all ASCII, so at most as many tokens:
  a token budget of that size never cuts its `<q>` program off.

Predicates and task keys come from the C++ core (``_core.PREDICATES``, ``_core.TASK_KEYS``), so what
the parser knows is the grammar's too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from ssr_runtime import _core
from ssr_runtime.eval.records import NUMERIC_KEYS

ROOT = "root"
MAX_LABEL_CHARS = 24
MAX_INTEGER_DIGITS = 4
DEFAULT_MAX_ELEMENTS = 64
MAX_COG_CHARS = 200  # a map line's body: a question's map names a few objects (training maps: 163 at most)
ANSWER_UNITS = ("m", "cm", "m2")

# (fewest, most) labels of each task's program, as the parser checks them (docs/FORMATS.md)
QUERY_LABELS = {"object_counting": (1, 1), "object_size_estimation": (1, 1), "object_abs_distance": (2, 2),
                "room_size_estimation": (0, 0), "object_rel_distance": (3, 5), "object_rel_direction_easy": (3, 3),
                "object_rel_direction_medium": (3, 3), "object_rel_direction_hard": (3, 3),
                "route_planning": (3, 7), "obj_appearance_order": (2, 4)}

SCAFFOLD_MAX_CHARS = (len("<cog") + MAX_COG_CHARS + len("</cog>\n") + len("<q>  </q>")
                      + max(len(task) + most * (1 + MAX_LABEL_CHARS) for task, (_, most) in QUERY_LABELS.items()))

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


_UNIT = f"unit    ::= {_alternatives(ANSWER_UNITS)}\n"


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


def _check_letters(letters: Sequence[str]) -> None:
    bad = [x for x in letters if len(x) != 1 or not "A" <= x <= "Z"]
    if not letters or bad:
        raise ValueError(f"letters: expected option letters A..Z, got {list(letters)!r}")


def _answer_rules(letters: Sequence[str] | None) -> str:
    """`ans`: one of `letters` (a multiple-choice question: its options' letters), else a number with
    an optional unit."""
    if letters is not None:
        _check_letters(letters)
        value = f"({_alternatives(sorted(set(letters)))})"
    else:
        value = "num (sp unit)?"
    return f'ans     ::= "<ans>" sp {value} sp "</ans>"\n' + _UNIT + _NUMBERS


# tasks whose program may name its second label twice: a route's walker may start facing its first stop
# (docs/QUERIES.md: `start facing waypoint...`, the facing object may also be a waypoint)
REPEATING_TASKS = frozenset({"route_planning"})


def _program(task: str, named: Sequence[str] | None) -> str:
    """`task`'s program: as many labels as it takes (QUERY_LABELS); with `named` (the question's labels),
    where they fit, each of them once in any order (a REPEATING_TASKS program: the second also again
    as the first waypoint)."""
    fewest, most = QUERY_LABELS[task]
    count = len(named or ())
    each_once = count > 0 and fewest <= count <= most
    facing_again = task in REPEATING_TASKS and count >= 2 and fewest <= count + 1 <= most
    if each_once or facing_again:
        orders = [list(order) for order in itertools.permutations(named)]
        programs = (orders if each_once else []) + ([order[:2] + order[1:] for order in orders] if facing_again else [])
        return f'("<q> {task} " ({_alternatives(" ".join(order) for order in programs)}) sp "</q>")'
    labels = f" (sp label){{{fewest},{most}}}" if most else ""
    return f'("<q> {task}"{labels} sp "</q>")'


def answer_grammar(letters: Sequence[str] | None = None) -> str:
    """A stage-2 direct answer, then the end: `<ans> LETTER </ans>` with one of `letters` (the
    question's options), or without letters `<ans> NUMBER [UNIT] </ans>`."""
    return f"{ROOT}    ::= ans\n" + _answer_rules(letters)


ANSWER_HEAD = "<ans> "  # how every `<ans>` begins; a numeric answer's number follows it (runtime.numbers)


def answer_tail_grammar() -> str:
    """What follows a numeric answer's number, decoded apart (runtime.numbers): an optional unit and
    the end of the `<ans>`."""
    return f'{ROOT}    ::= (sp unit)? sp "</ans>"\nsp      ::= " "\n' + _UNIT


def scaffold_grammar(letters: Sequence[str] | None = None, labels: Iterable[str] | None = None) -> str:
    """A stage-2 scaffold, then the end: an optional `<cog ...>` line (up to MAX_COG_CHARS of printable
    ASCII but `<`, then `</cog>`: the parser checks it, and a bad map only loses the map) and a `<q>` program
    (a task key of the C++ core with as many labels as that task takes: QUERY_LABELS), within a
    bounded length. The runtime then writes the program's `<res>` and the model answers under
    `answer_grammar`. With `letters` the task is a multiple-choice one (not NUMERIC_KEYS); without,
    any (a question without options may still ask to choose: the engine's choice is the answer then).
    With `labels` (the ones the question mentions) the program names only these, and a task that
    takes as many labels as there are names each of them once (a route may name its facing object
    again as its first waypoint): the model chooses the task and their order, but cannot name an
    object the question does not, or one object in two roles. A task that takes fewer labels than
    the question mentions picks among them."""
    if letters is not None:
        _check_letters(letters)
    named = None if labels is None else list(dict.fromkeys(labels))
    tasks = [task for task in QUERY_LABELS if letters is None or task not in NUMERIC_KEYS]
    return (f'{ROOT}    ::= (cog "\\n")? query\n'
            f'cog     ::= "<cog" [ -;=-~]{{0,{MAX_COG_CHARS}}} "</cog>"\n'
            f"query   ::= {' | '.join(_program(task, named) for task in tasks)}\n"
            'sp      ::= " "\n' + _label_rule(named))
