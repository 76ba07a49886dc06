"""Text formats of docs/FORMATS.md: serializer, strict parser, error positions, robustness."""

import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssr_runtime import _core as core

FORMATS_MD = Path(__file__).resolve().parents[1] / "docs" / "FORMATS.md"

# Argument counts per task as docs/FORMATS.md states them, checked against the C++ table.
ARITY = {
    "object_counting": (1, 1),
    "object_size_estimation": (1, 1),
    "object_abs_distance": (2, 2),
    "room_size_estimation": (0, 0),
    "object_rel_distance": (3, 5),
    "object_rel_direction_easy": (3, 3),
    "object_rel_direction_medium": (3, 3),
    "object_rel_direction_hard": (3, 3),
    "route_planning": (3, 7),
    "obj_appearance_order": (2, 4),
}
PREDICATES = ["on", "under", "above", "below", "next_to", "near", "far_from"]

CANONICAL_LINES = [
    "<box> chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>",
    "<tri> chair#2 next_to table#1 dx=-0.80 dy=0.10 dz=0.00 </tri>",
    "<cog anchor=table#1 res=0.50> chair#2 (3,4); lamp#1 (7,1) </cog>",
    "<cog anchor=room res=0.80 at=(1.20,-0.40)> bed#1 (2,7) </cog>",
    "<cog anchor=camera res=0.25 at=(0.00,0.00)> </cog>",
    "<cog anchor=sofa#12 res=1.00> </cog>",
    "<ans> 3.52 m </ans>",
    "<ans> 45.00 cm </ans>",
    "<ans> 12.50 m2 </ans>",
    "<ans> 4.00 </ans>",
    "<ans> B </ans>",
    "<q> object_abs_distance bed lamp </q>",
    "<q> room_size_estimation </q>",
    "<q> route_planning bed door sofa tv lamp sink desk </q>",
]
CANONICAL_DOCUMENT = "\n".join(CANONICAL_LINES)


def spec_examples():
    """Every `<...>` example in the rows of the spec's element table."""
    table_rows = [line for line in FORMATS_MD.read_text().splitlines() if line.startswith("| ")]
    return [m for row in table_rows for m in re.findall(r"`(<[^`]*>)`", row)]


def record_key(record):
    """A comparable tuple for any parsed record (Triplet and CogMap have no __eq__)."""
    if isinstance(record, core.BoxText):
        b = record.box
        return ("box", record.id, tuple(b.center), tuple(b.size), b.yaw)
    if isinstance(record, core.Triplet):
        return ("tri", record.subject, record.predicate, record.object, tuple(record.offset))
    if isinstance(record, core.CogMap):
        at = None if record.at is None else tuple(record.at)
        return ("cog", record.anchor, record.res, at, tuple((c.id, c.i, c.j) for c in record.cells))
    if isinstance(record, core.Answer):
        return ("ans", record.value, record.unit, record.choice)
    if isinstance(record, core.Query):
        return ("q", record.task, tuple(record.args))
    if isinstance(record, core.EngineResult):
        return ("res", None if record.answer is None else record_key(record.answer))
    raise TypeError(record)


def end_position(data: bytes):
    lines = data.split(b"\n")
    return len(lines), len(lines[-1]) + 1


def parse_or_error(data: bytes):
    """Parses, or checks the ParseError points inside the text (1-based, column in bytes)."""
    try:
        return core.parse_document(data)
    except core.ParseError as error:
        lines = data.split(b"\n")
        assert 1 <= error.line <= len(lines), (data, error)
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1, (data, error)
        assert f"line {error.line}, column {error.column}" in str(error)
        return None


# ---- the spec's examples ------------------------------------------------------------------------


def test_spec_has_an_example_of_every_element():
    kinds = {example.split()[0].rstrip(">") for example in spec_examples()}
    assert kinds == {"<box", "<tri", "<cog", "<ans", "<q", "<res"}


@pytest.mark.parametrize("example", spec_examples())
def test_every_spec_example_parses_to_one_element(example):
    assert len(core.parse_document(example)) == 1


def test_spec_examples_carry_their_values():
    box, tri, local, global_map = core.parse_document("\n".join(spec_examples()[:4]))
    assert box.id == "chair#2" and box.box.center == [1.2, -0.4, 0.45] and box.box.yaw == 1.57
    assert box.box.size == [0.5, 0.5, 0.9]
    assert (tri.subject, tri.predicate, tri.object) == ("chair#2", "next_to", "table#1")
    assert tri.offset == [-0.8, 0.1, 0.0]
    assert (local.anchor, local.res, local.at) == ("table#1", 0.5, None)
    assert [(c.id, c.i, c.j) for c in local.cells] == [("chair#2", 3, 4), ("lamp#1", 7, 1)]
    assert (global_map.anchor, global_map.at) == ("room", [1.2, -0.4])
    answers = [core.parse_answer(e) for e in spec_examples() if e.startswith("<ans>")]
    assert [(a.value, a.unit, a.choice) for a in answers] == [
        (3.52, "m", None), (45.0, "cm", None), (12.5, "m2", None), (4.0, "", None), (None, "", "B")]


# ---- serializer and round trips -----------------------------------------------------------------


@pytest.mark.parametrize("line", CANONICAL_LINES)
def test_canonical_line_round_trips(line):
    assert core.format_document(core.parse_document(line)) == line


def test_canonical_document_round_trips():
    records = core.parse_document(CANONICAL_DOCUMENT)
    assert len(records) == len(CANONICAL_LINES)
    assert core.format_document(records) == CANONICAL_DOCUMENT


def test_single_formatters_match_the_spec_spelling():
    box = core.Box3D((1.2, -0.4, 0.45), (0.5, 0.5, 0.9), 1.57)
    assert core.format_box("chair#2", box) == CANONICAL_LINES[0]
    tri = core.Triplet("chair#2", "next_to", "table#1", (-0.8, 0.1, 0.0))
    assert core.format_triplet(tri) == CANONICAL_LINES[1]
    cog = core.CogMap("room", 0.8, (1.2, -0.4), [core.CogMapCell("bed#1", 2, 7)])
    assert core.format_cogmap(cog) == CANONICAL_LINES[3]
    assert core.format_answer(core.Answer(45, "cm")) == "<ans> 45.00 cm </ans>"
    assert core.format_answer(core.Answer(choice="B")) == "<ans> B </ans>"
    assert core.format_query(core.Query("object_abs_distance", ["bed", "lamp"])) == CANONICAL_LINES[11]


@pytest.mark.parametrize("value", [-0.0, -0.001, -0.004999])
def test_negative_zero_is_written_as_zero(value):
    tri = core.Triplet("a#1", "near", "b#1", (value, value, value))
    assert core.format_triplet(tri) == "<tri> a#1 near b#1 dx=0.00 dy=0.00 dz=0.00 </tri>"


def test_numbers_are_rounded_to_two_decimals():
    assert core.format_answer(core.Answer(3.14159, "m")) == "<ans> 3.14 m </ans>"
    assert core.format_answer(core.Answer(-2.005001)) == "<ans> -2.01 </ans>"


def test_format_document_of_nothing_is_empty_and_empty_text_has_no_elements():
    assert core.format_document([]) == ""
    assert core.parse_document("") == []
    assert core.parse_document(" \n\t\r\n ") == []


labels = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
object_ids = st.builds(lambda label, n: f"{label}#{n}", labels, st.integers(1, 999999))
centi = st.integers(-10**7, 10**7).map(lambda n: n / 100)
positive_centi = st.integers(1, 10**6).map(lambda n: n / 100)

box_records = st.builds(
    lambda id_, c, s, yaw: core.BoxText(id_, core.Box3D(c, s, yaw)),
    object_ids, st.tuples(centi, centi, centi), st.tuples(positive_centi, positive_centi, positive_centi), centi)
triplets = st.builds(core.Triplet, object_ids, st.sampled_from(PREDICATES), object_ids,
                     st.tuples(centi, centi, centi))
cells = st.lists(st.builds(core.CogMapCell, object_ids, st.integers(0, 9), st.integers(0, 9)),
                 max_size=6, unique_by=lambda c: c.id)
cogmaps = st.one_of(
    st.builds(lambda a, r, c: core.CogMap(a, r, None, c), object_ids, positive_centi, cells),
    st.builds(core.CogMap, st.sampled_from(["camera", "room"]), positive_centi, st.tuples(centi, centi), cells))
answers = st.one_of(
    st.builds(core.Answer, centi, st.sampled_from(["", "m", "cm", "m2"])),
    st.builds(lambda c: core.Answer(choice=c), st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
queries = st.sampled_from(sorted(ARITY)).flatmap(
    lambda task: st.builds(core.Query, st.just(task),
                           st.lists(labels, min_size=ARITY[task][0], max_size=ARITY[task][1])))
results = st.one_of(st.just(core.EngineResult()), st.builds(core.EngineResult, answers))
records = st.one_of(box_records, triplets, cogmaps, answers, queries, results)


@settings(max_examples=200)
@given(st.lists(records, max_size=8))
def test_parse_of_format_gives_the_records_back(items):
    text = core.format_document(items)
    assert [record_key(r) for r in core.parse_document(text)] == [record_key(r) for r in items]


@settings(max_examples=200)
@given(records)
def test_single_element_parsers_read_what_the_formatter_wrote(record):
    parse = {core.BoxText: core.parse_box, core.Triplet: core.parse_triplet, core.CogMap: core.parse_cogmap,
             core.Answer: core.parse_answer, core.Query: core.parse_query,
             core.EngineResult: core.parse_result}[type(record)]
    text = core.format_document([record])
    assert record_key(parse(text)) == record_key(record)


def test_engine_results_read_like_answers_or_none():
    assert core.parse_result("<res>  2.41 m </res>") == core.EngineResult(core.Answer(2.41, "m"))
    assert core.parse_result("<res> none </res>") == core.EngineResult() != core.EngineResult(core.Answer(choice="B"))
    assert core.format_result(core.EngineResult(core.Answer(choice="B"))) == "<res> B </res>"
    assert core.format_result(core.EngineResult()) == "<res> none </res>"
    for text, message in [("<res> nothing </res>", "column 7: expected a number, an option letter A-Z or 'none'"),
                          ("<res> none</res>", "column 11: expected"),
                          ("<res> 2.41 m </ans>", "expected '</res>'"),
                          ("<res> 2.41 km </res>", "unknown unit 'km'")]:
        with pytest.raises(core.ParseError, match=message):
            core.parse_result(text)


def test_query_arity_matches_the_spec():
    for task, (low, high) in ARITY.items():
        for n in range(0, 9):
            query = core.Query(task, ["bed"] * n)
            if low <= n <= high:
                assert core.parse_query(core.format_query(query)).args == ["bed"] * n
            else:
                with pytest.raises(core.InvalidInputError, match="query.args"):
                    core.format_query(query)
                text = f"<q> {task}{' bed' * n} </q>"
                with pytest.raises(core.ParseError, match="too (few|many) labels"):
                    core.parse_query(text)


# ---- what the parser accepts besides canonical text -----------------------------------------------


def test_tabs_runs_of_spaces_and_any_separator_between_elements_are_accepted():
    text = ("\r\n\t<box>\tchair#2   x=1.2 y=-0.4 z=0.45 l=0.5 w=0.5 h=0.9 yaw=1.5700 \t</box><ans>  B\t</ans>"
            "\n\n<cog anchor=t#1 res=0.5>  a#1\t(1,2);\t\tb#2 (3,4)  </cog>")
    box, answer, cog = core.parse_document(text)
    assert box.box.center == [1.2, -0.4, 0.45] and box.box.yaw == 1.57
    assert answer.choice == "B"
    assert [c.id for c in cog.cells] == ["a#1", "b#2"]


def test_bytes_are_accepted_like_str():
    assert [record_key(r) for r in core.parse_document(CANONICAL_DOCUMENT.encode())] == [
        record_key(r) for r in core.parse_document(CANONICAL_DOCUMENT)]


def test_number_length_limit_is_32_characters():
    longest = "-" + "1" * 28 + ".25"  # 32 characters
    assert core.parse_answer(f"<ans> {longest} </ans>").value == float(longest)
    with pytest.raises(core.ParseError, match="longer than 32") as error:
        core.parse_answer(f"<ans> 1{longest[1:]} </ans>".replace("1", "11", 1))
    assert error.value.column == 7
    with pytest.raises(core.InvalidInputError, match="answer.value"):
        core.format_answer(core.Answer(1e40))


def test_single_element_parsers_want_exactly_one_element_of_their_kind():
    assert core.parse_query("\n <q> room_size_estimation </q>\n").task == "room_size_estimation"
    with pytest.raises(core.ParseError, match=r"expected a <box> element, found <tri>") as error:
        core.parse_box("  " + CANONICAL_LINES[1])
    assert (error.value.line, error.value.column) == (1, 3)
    with pytest.raises(core.ParseError, match="end of the text after the <ans>") as error:
        core.parse_answer("<ans> B </ans>\n<ans> C </ans>")
    assert (error.value.line, error.value.column) == (2, 1)
    with pytest.raises(core.ParseError, match="found no element"):
        core.parse_cogmap("   ")


# ---- errors with exact positions ----------------------------------------------------------------

BOX = CANONICAL_LINES[0]
ERROR_CASES = [
    # (text, line, column, message fragment)
    ("<box> chair#2 x=1.20 q=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 22,
     "expected 'y=' after x value"),
    ("<tri> chair#2 besides table#1 dx=-0.80 dy=0.10 dz=0.00 </tri>", 1, 15, "unknown predicate 'besides'"),
    ("<cog anchor=table#1 res=0.50> chair#2 (12,4) </cog>", 1, 40, "cell index 12 outside 0..9"),
    ("<cog anchor=table#1 res=0.50> chair#2 (03,4) </cog>", 1, 40, "must be one digit"),
    ("<cog anchor=table#1 res=0.50> chair#2 (3,-4) </cog>", 1, 42, "expected cell index j"),
    ("<cog anchor=t#1 res=0.50> a#1 (1,1); b#1 (2,2); a#1 (3,3) </cog>", 1, 49, "duplicate id 'a#1'"),
    ("<cog anchor=t#1 res=0.50 at=(1.00,2.00)> </cog>", 1, 26, "only allowed for camera/room"),
    ("<cog anchor=room res=0.50> bed#1 (2,7) </cog>", 1, 26, "required for anchor 'room'"),
    ("<cog anchor=kitchen res=0.50> </cog>", 1, 13, "anchor 'kitchen' is neither"),
    ("<cog anchor=t#1 res=0.00> </cog>", 1, 21, "res value must be > 0"),
    ("<cog anchor=t#1 res=0.50> a#1 (1,1) b#1 (2,2) </cog>", 1, 37, "expected '</cog>'"),
    ("<box> chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=-0.50 h=0.90 yaw=1.57 </box>", 1, 46, "w value must be > 0"),
    ("<box> chair x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 12, "expected '#'"),
    ("<box> chair#0 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 13, "expected a number 1.."),
    ("<box> chair#1234567 x=1.20 y=0 z=0 l=1 w=1 h=1 yaw=0 </box>", 1, 13, "longer than 6 digits"),
    ("<box> Chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 7, "expected the box id"),
    ("<box> chair#2 x=1. y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 19, "digit after '.'"),
    ("<box> chair#2 x=.5 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 17, "expected a digit"),
    ("<box> chair#2 x=1e3 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 18, "space after x value"),
    ("<box> chair#2 x=+1 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 17, "expected a digit"),
    ("<box> chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </tri>", 1, 69, "expected '</box>'"),
    ("<box> chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57</box>", 1, 66, "space after yaw value"),
    ("<box> chair#2 x=1.20\ny=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>", 1, 21, "expected a space"),
    ("<ans> 3 km </ans>", 1, 9, "unknown unit 'km'"),
    ("<ans> AB </ans>", 1, 8, "option letter"),
    ("<ans> b </ans>", 1, 7, "expected a number or an option letter"),
    ("<q> object_counting </q>", 1, 21, "too few labels: object_counting takes exactly 1 label, got 0"),
    ("<q> object_counting bed lamp </q>", 1, 25, "too many labels"),
    ("<q> object_counting Bed </q>", 1, 21, "expected a label"),
    ("<q> count bed </q>", 1, 5, "unknown task 'count'"),
    ("<q> object_counting bed#1 </q>", 1, 24, "space after the label"),
    ("<box> chair#2 x=1 y=1 z=1 l=1 w=1 h=1 yaw=1 </box>\n\n  <ans> 4 </ans> stray", 3, 18, "expected an element"),
    ("<boxes> </boxes>", 1, 2, "unknown element '<boxes'"),
    ("</box>", 1, 2, "unknown element '<'"),
    ("<cog\tanchor=room res=1 at=(0,0)>\t</cog>\r\n<tri> a#1 on b#1 dx=0 dy=0 dz=0 </tri x>", 2, 38,
     "expected '</tri>'"),
    ("<ans> 2 m </ans>\n<ans> \xe9 </ans>", 2, 7, "expected a number or an option letter"),
]


@pytest.mark.parametrize("text,line,column,fragment", ERROR_CASES)
def test_error_points_at_the_offending_character(text, line, column, fragment):
    with pytest.raises(core.ParseError, match=re.escape(fragment)) as error:
        core.parse_document(text)
    assert (error.value.line, error.value.column) == (line, column)
    assert isinstance(error.value, core.SsrError) and isinstance(error.value, ValueError)


def test_every_prefix_of_a_document_parses_or_is_unterminated_at_its_end():
    data = CANONICAL_DOCUMENT.encode()
    element_ends = [m.end() for m in re.finditer(rb"</(box|tri|cog|ans|q)>", data)]
    boundaries = {0, *element_ends, *(end + 1 for end in element_ends[:-1])}  # with or without its '\n'
    for length in range(len(data) + 1):
        prefix = data[:length]
        if length in boundaries:
            assert len(core.parse_document(prefix)) == prefix.count(b"</")
            continue
        with pytest.raises(core.ParseError, match="unterminated") as error:
            core.parse_document(prefix)
        assert (error.value.line, error.value.column) == end_position(prefix), prefix


@pytest.mark.parametrize("prefix,tag", [
    ("<box> chair#2 x=1.20 y", "<box>"), ("<box", "<box>"), ("<tri> a#1 next", "<tri>"),
    ("<cog anchor=room res=1 at=(1,", "<cog>"), ("<ans> 3.5", "<ans>"), ("<q> object_counting bed </", "<q>")])
def test_unterminated_element_names_its_tag(prefix, tag):
    with pytest.raises(core.ParseError, match=f"^line 1, column {len(prefix) + 1}: unterminated {tag}"):
        core.parse_document(prefix)


# ---- robustness ---------------------------------------------------------------------------------


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data):
    parse_or_error(data)


@settings(max_examples=1000)
@given(st.text(alphabet=st.sampled_from(list("<>/=#;(),.-_ \t\n\rabcdemnqrxyzlwhABZ0123456789")), max_size=120))
def test_garbage_from_the_format_alphabet_never_crashes(text):
    parse_or_error(text.encode())


mutation = st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, 10**6), st.binary(min_size=1, max_size=3))


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CANONICAL_LINES + [CANONICAL_DOCUMENT]), st.lists(mutation, min_size=1, max_size=4))
def test_mutated_documents_parse_or_raise_parse_error_inside_the_text(document, mutations):
    data = bytearray(document.encode())
    for kind, where, payload in mutations:
        at = where % (len(data) + 1)
        if kind == "replace" and at < len(data):
            data[at:at + 1] = payload[:1]
        elif kind == "insert":
            data[at:at] = payload
        elif kind == "delete" and at < len(data):
            del data[at]
    parse_or_error(bytes(data))


def test_a_one_megabyte_document_parses():
    lines = []
    for n in range(1, 7500):
        lines += [f"<box> chair#{n} x={n % 97 / 10:.2f} y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>",
                  f"<tri> chair#{n} near table#1 dx=-0.80 dy=0.10 dz=0.00 </tri>"]
    text = "\n".join(lines)
    assert len(text) > 1_000_000
    records = core.parse_document(text)
    assert len(records) == len(lines)
    assert records[-1].subject == "chair#7499"
    with pytest.raises(core.ParseError) as error:
        core.parse_document(text + "\n<box> 7 ")
    assert (error.value.line, error.value.column) == (len(lines) + 1, 7)


def test_huge_tokens_fail_fast_with_short_messages():
    for text in ["<q> " + "a" * 1_000_000 + " </q>", "<ans> " + "9" * 1_000_000 + " </ans>",
                 "<" + "b" * 1_000_000 + ">", "<cog anchor=" + "t" * 1_000_000 + "#1 res=1 at=(0,0)> </cog>",
                 "<cog anchor=room res=1 at=(0,0)> " + "t" * 1_000_000 + "#1 (1,1); " + "t" * 1_000_000 + "#1 (2,2) </cog>"]:
        with pytest.raises(core.ParseError) as error:
            core.parse_document(text)
        assert len(str(error.value)) < 200


# ---- records and formatter validation -------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"value": 1.0, "choice": "A"}, {"choice": "a"}, {"choice": "AB"},
                                    {"value": 1.0, "unit": "km"}, {"value": math.nan}, {"choice": "A", "unit": "m"}])
def test_answer_rejects_inconsistent_fields(kwargs):
    with pytest.raises(core.InvalidInputError, match="answer"):
        core.Answer(**kwargs)


def test_records_compare_by_value():
    box = core.Box3D((0, 0, 0), (1, 1, 1))
    assert core.BoxText("a#1", box) == core.BoxText("a#1", core.Box3D((0, 0, 0), (1, 1, 1)))
    assert core.BoxText("a#1", box) != core.BoxText("a#2", box)
    assert core.Answer(2.5, "m") == core.Answer(2.5, "m") != core.Answer(2.5, "cm")
    assert core.Answer(choice="C").choice == "C" and core.Answer(choice="C").value is None


@pytest.mark.parametrize("make,field", [
    (lambda: core.format_box("Chair#1", core.Box3D((0, 0, 0), (1, 1, 1))), "box.id"),
    (lambda: core.format_box("a#1", core.Box3D((0, 0, 0), (0.001, 1, 1))), "box.size"),
    (lambda: core.format_box("a#1", _box_with_center((math.inf, 0, 0))), "box.box"),
    (lambda: core.format_triplet(core.Triplet("a#1", "besides", "b#1", (0, 0, 0))), "triplet.predicate"),
    (lambda: core.format_triplet(core.Triplet("a#1", "on", "b", (0, 0, 0))), "triplet.object"),
    (lambda: core.format_triplet(core.Triplet("a#1", "on", "b#1", (0, math.nan, 0))), "triplet.offset"),
    (lambda: core.format_cogmap(core.CogMap("room", 0.5)), "cogmap.at"),
    (lambda: core.format_cogmap(core.CogMap("t#1", 0.5, (0, 0))), "cogmap.at"),
    (lambda: core.format_cogmap(core.CogMap("table", 0.5)), "cogmap.anchor"),
    (lambda: core.format_cogmap(core.CogMap("t#1", -1.0)), "cogmap.res"),
    (lambda: core.format_cogmap(core.CogMap("t#1", 0.5, None, [core.CogMapCell("a#1", 10, 0)])), "cogmap.cells[0].i"),
    (lambda: core.format_cogmap(core.CogMap("t#1", 0.5, None, [core.CogMapCell("a#1", 0, 0),
                                                                core.CogMapCell("a#1", 1, 1)])), "cogmap.cells[1].id"),
    (lambda: core.format_query(core.Query("count", ["bed"])), "query.task"),
    (lambda: core.format_query(core.Query("object_counting", ["Bed"])), "query.args"),
])
def test_formatters_refuse_what_the_parser_would_reject(make, field):
    with pytest.raises(core.InvalidInputError, match=re.escape(field)):
        make()


def _box_with_center(center):
    box = core.Box3D((0, 0, 0), (1, 1, 1))
    box.center = center  # the setter does not validate; the formatter must
    return box


def test_format_document_rejects_other_objects():
    with pytest.raises(TypeError):
        core.format_document(["<ans> B </ans>"])
