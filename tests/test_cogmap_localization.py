"""benchmarks/cogmap_localization.py's pieces without a model: where a <cog> line's cell digits are among
its tokens, and the constant-guess reference."""

import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import cogmap_localization as cl  # noqa: E402

LINE = "<cog anchor=room res=0.55 at=(2.10,2.73)> bed#1 (3,4); lamp#1 (5,0) </cog>"


def offsets_of(pieces: list[str]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for piece in pieces:
        spans.append((start, start + len(piece)))
        start += len(piece)
    return spans


def test_cell_digits_are_found_by_their_character_offsets():
    pieces = ["<cog", " anchor", "=room", " res", "=", "0", ".", "5", "5", " at", "=(", "2", ".", "1", "0", ",", "2",
              ".", "7", "3", ")>", " bed", "#", "1", " (", "3", ",", "4", ");", " lamp", "#", "1", " (", "5", ",", "0",
              ")", " </", "cog", ">"]
    assert "".join(pieces) == LINE
    cells = cl.cell_tokens(LINE, offsets_of(pieces))
    assert [(pieces[xi], x, pieces[yi], y) for xi, x, yi, y in cells] == [("3", 3, "4", 4), ("5", 5, "0", 0)]
    merged = pieces[:24] + [" (3", ",", "4"] + pieces[27:]  # "(3" as one token: the x digit has no token alone
    with pytest.raises(ValueError, match=r"cell '\(3,4\)': its digits are not single tokens"):
        cl.cell_tokens(LINE, offsets_of(merged))


def test_constant_guess_is_the_median_cell_scored_per_map():
    maps = [[(5, 5), (5, 6)], [(5, 5)], []]
    assert cl.constant_guess_error(maps) == pytest.approx((0.5 + 0.0) / 2)  # median (5, 5); empty maps left out
    assert math.isnan(cl.constant_guess_error([[], []]))
