"""Scene graph: merging detections, de-duplication, predicates, the incremental triplet chain,
composition, and the JSON file format (strict reader, exact round trips, atomic saves)."""

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssr_runtime import _core as c

DATA = Path(__file__).parent / "data"


def box(center, size=(0.5, 0.5, 0.5), yaw=0.0):
    return c.Box3D(center, size, yaw)


def det(label, center, size=(0.5, 0.5, 0.5), confidence=1.0, t=0.0, yaw=0.0):
    return c.Detection(label, box(center, size, yaw), confidence, t)


def yaw_gap(a, b):
    """Angle between two box headings, which are the same turned by 180 degrees."""
    d = (a - b) % math.pi
    return min(d, math.pi - d)


def living_room():
    g = c.SceneGraph()
    g.add_object(c.Object("table", box((2.0, 1.5, 0.375), (1.6, 0.9, 0.75)), first_seen=0.0))
    g.add_object(c.Object("cup", box((2.2, 1.4, 0.8), (0.08, 0.08, 0.1)), first_seen=0.5, last_seen=0.5))
    g.add_object(c.Object("chair", box((2.0, 0.6, 0.45), (0.5, 0.5, 0.9), 1.2), first_seen=1.0, last_seen=1.0))
    g.add_object(c.Object("lamp", box((4.6, 3.3, 0.8), (0.3, 0.3, 1.6)), first_seen=2.5, last_seen=2.5))
    g.add_object(c.Object("shelf", box((4.0, 3.7, 1.0), (1.0, 0.4, 2.0)), first_seen=2.5, last_seen=2.5))
    g.room_polygon = [(0.0, 0.0), (5.0, 0.0), (5.0, 4.0), (0.0, 4.0)]
    return g


# --- merge -------------------------------------------------------------------------------------------


def test_merge_creates_new_objects_with_next_index():
    g = c.SceneGraph()
    assert g.merge(det("chair", (0, 0, 0.25))) == "chair#1"
    assert g.merge(det("chair", (3, 0, 0.25))) == "chair#2"
    assert g.merge(det("table", (0, 0, 0.25))) == "table#1"  # other labels never match
    assert len(g) == 3


def test_merge_by_iou_averages_by_confidence_and_updates_bookkeeping():
    g = c.SceneGraph()
    g.merge(det("chair", (0, 0, 0.25), confidence=0.5, t=2.0))
    assert g.merge(det("chair", (0.3, 0, 0.25), size=(0.8, 0.5, 0.5), confidence=1.0, t=5.0)) == "chair#1"
    o = g.object("chair#1")
    # weights 0.5 (confidence 0.5 x 1 observation) and 1.0
    assert o.box.center[0] == pytest.approx(0.2)
    assert o.box.size[0] == pytest.approx(0.7)
    assert (o.confidence, o.observations, o.first_seen, o.last_seen) == (1.0, 2, 2.0, 5.0)
    g.merge(det("chair", (0.2, 0, 0.25), confidence=0.3, t=1.0))  # an older observation arrives late
    o = g.object("chair#1")
    assert (o.confidence, o.observations, o.first_seen, o.last_seen) == (1.0, 3, 1.0, 5.0)


def test_merge_by_centre_distance_without_overlap():
    g = c.SceneGraph()
    g.merge(det("cup", (0, 0, 0.8), size=(0.1, 0.1, 0.1)))
    assert c.box_iou_3d(box((0, 0, 0.8), (0.1, 0.1, 0.1)), box((0.3, 0, 0.8), (0.1, 0.1, 0.1))) == 0
    assert g.merge(det("cup", (0.3, 0, 0.8), size=(0.1, 0.1, 0.1))) == "cup#1"
    assert g.merge(det("cup", (0.9, 0, 0.8), size=(0.1, 0.1, 0.1))) == "cup#2"


def test_merge_refuses_close_centres_of_very_different_size():
    g = c.SceneGraph()
    g.merge(det("box", (0, 0, 0.5), size=(1.0, 1.0, 1.0)))
    # inside the big box (IoU 0.001) and 0.1 m from its centre, but 10 times smaller
    assert g.merge(det("box", (0.1, 0, 0.5), size=(0.1, 0.1, 0.1))) == "box#2"
    params = c.MergeParams(max_size_ratio=20)
    assert g.merge(det("box", (0.1, 0, 0.5), size=(0.1, 0.1, 0.1)), params) in ("box#1", "box#2")


def test_merge_picks_the_best_match():
    g = c.SceneGraph()
    g.add_object(c.Object("chair", box((0, 0, 0.25)), id="chair#1"))
    g.add_object(c.Object("chair", box((0.6, 0, 0.25)), id="chair#2"))
    assert g.merge(det("chair", (0.45, 0, 0.25))) == "chair#2"
    assert g.merge(det("chair", (0.1, 0, 0.25))) == "chair#1"


def test_merge_yaw_wraps_around_pi():
    g = c.SceneGraph()
    g.merge(det("sofa", (0, 0, 0.4), size=(2, 1, 0.8), yaw=math.pi - 0.1))
    g.merge(det("sofa", (0, 0, 0.4), size=(2, 1, 0.8), yaw=-math.pi + 0.1))
    assert yaw_gap(g.object("sofa#1").box.yaw, math.pi) == pytest.approx(0, abs=1e-12)


def test_merge_yaw_treats_opposite_headings_as_the_same_box():
    g = c.SceneGraph()
    g.merge(det("sofa", (0, 0, 0.4), size=(2, 1, 0.8), yaw=0.1))
    g.merge(det("sofa", (0, 0, 0.4), size=(2, 1, 0.8), yaw=0.3 + math.pi))
    assert g.object("sofa#1").box.yaw == pytest.approx(0.2)  # the representative nearest the old yaw


def test_merge_with_zero_confidence_keeps_the_box():
    g = c.SceneGraph()
    g.merge(det("bed", (0, 0, 0.3), size=(2, 1.5, 0.6), yaw=0.2))
    g.merge(det("bed", (0.2, 0, 0.3), size=(2, 1.5, 0.6), yaw=0.5, confidence=0.0))
    o = g.object("bed#1")
    assert o.box == box((0, 0, 0.3), (2, 1.5, 0.6), 0.2)
    assert o.observations == 2


def test_merge_rejects_bad_detections_and_params():
    g = c.SceneGraph()
    bad_box = box((0, 0, 0))
    bad_box.center = (math.nan, 0, 0)
    with pytest.raises(c.InvalidInputError, match=r"detection\.box"):
        g.merge(c.Detection("chair", bad_box))
    with pytest.raises(c.InvalidInputError, match=r"detection\.label"):
        g.merge(det("Chair", (0, 0, 0)))
    with pytest.raises(c.InvalidInputError, match=r"detection\.confidence"):
        g.merge(det("chair", (0, 0, 0), confidence=1.5))
    with pytest.raises(c.InvalidInputError, match=r"detection\.t"):
        g.merge(det("chair", (0, 0, 0), t=math.inf))
    with pytest.raises(c.InvalidInputError, match="min_iou"):
        c.MergeParams(min_iou=2)
    with pytest.raises(c.InvalidInputError, match="max_size_ratio"):
        c.MergeParams(max_size_ratio=0.5)
    params = c.MergeParams()
    params.max_center_dist = math.nan
    with pytest.raises(c.InvalidInputError, match="max_center_dist"):
        g.merge(det("chair", (0, 0, 0)), params)
    assert len(g) == 0


def test_merge_all_matches_each_object_once_best_score_first():
    g = c.SceneGraph()
    g.merge(det("chair", (0, 0, 0.25)))
    g.merge(det("lamp", (5, 5, 0.25)))
    ids = g.merge_all([det("chair", (0.3, 0, 0.25)), det("chair", (0.05, 0, 0.25)), det("lamp", (9, 9, 0.25))])
    assert ids == ["chair#2", "chair#1", "lamp#2"]  # the closer detection wins chair#1
    assert g.object("chair#1").box.center[0] == pytest.approx(0.025)
    assert g.object("chair#2").box.center[0] == pytest.approx(0.3)
    assert g.merge_all([]) == []


def test_merge_all_validates_everything_before_changing_anything():
    g = c.SceneGraph()
    g.merge(det("chair", (0, 0, 0.25)))
    before = g.to_json()
    with pytest.raises(c.InvalidInputError, match=r"detections\[1\]\.confidence"):
        g.merge_all([det("chair", (0.1, 0, 0.25)), det("chair", (0, 0, 0), confidence=-1)])
    assert g.to_json() == before


def test_dedupe_keeps_the_older_id_and_repoints_triplets():
    g = c.SceneGraph()
    g.add_object(c.Object("chair", box((0, 0, 0.25)), id="chair#1", first_seen=3, last_seen=4, observations=2))
    g.add_object(c.Object("chair", box((0.2, 0, 0.25)), id="chair#2", first_seen=1, last_seen=2))
    g.add_object(c.Object("table", box((2, 0, 0.4), (1, 1, 0.8))))
    g.add_object(c.Object("chair", box((5, 0, 0.25)), id="chair#3"))
    g.add_triplet(c.Triplet("chair#1", "near", "table#1", (-2, 0, -0.15)))
    g.add_triplet(c.Triplet("chair#1", "next_to", "chair#2", (-0.2, 0, 0)))
    assert g.dedupe() == ["chair#1"]
    assert [o.id for o in g.objects] == ["chair#2", "table#1", "chair#3"]
    kept = g.object("chair#2")
    assert (kept.observations, kept.first_seen, kept.last_seen) == (3, 1, 4)
    assert kept.box.center[0] == pytest.approx(0.2 - 0.2 * 2 / 3)  # weights: 2 observations vs 1
    assert [(t.subject, t.object) for t in g.triplets] == [("chair#2", "table#1")]  # self-loop dropped
    assert g.dedupe() == []
    assert g.merge(det("chair", (9, 9, 0.25))) == "chair#4"  # removed ids are never reused


def test_dedupe_merges_chains_of_matches():
    g = c.SceneGraph()
    for i, x in enumerate([0.0, 0.3, 0.6]):
        g.add_object(c.Object("cup", box((x, 0, 0.8), (0.1, 0.1, 0.1)), first_seen=float(i), last_seen=float(i)))
    removed = g.dedupe()
    assert sorted(removed) == ["cup#2", "cup#3"]
    assert [o.id for o in g.objects] == ["cup#1"]


# --- predicates --------------------------------------------------------------------------------------


TABLE = box((0, 0, 0.4), (1.2, 0.8, 0.8))


@pytest.mark.parametrize(
    "subject, expected",
    [
        (box((0.2, 0, 0.85), (0.1, 0.1, 0.1)), "on"),  # bottom at 0.80 = table top
        (box((0.2, 0, 0.88), (0.1, 0.1, 0.1)), "on"),  # 3 cm gap still touching
        (box((0.2, 0, 1.0), (0.1, 0.1, 0.1)), "above"),  # 15 cm gap
        (box((0, 0, 1.5), (0.4, 0.4, 0.2)), "above"),
        (box((0.7, 0, 0.4), (0.2, 0.2, 0.8)), "next_to"),  # beside, 0.0 m apart
        (box((1.0, 0, 0.4), (0.2, 0.2, 0.8)), "next_to"),  # 0.3 m
        (box((1.5, 0, 0.4), (0.2, 0.2, 0.8)), "near"),  # 0.8 m
        (box((3.0, 0, 0.4), (0.2, 0.2, 0.8)), "far_from"),  # 2.3 m
        (box((0, 0, 0.4), (0.3, 0.3, 0.3)), "next_to"),  # inside the table: distance 0
    ],
)
def test_derive_predicate(subject, expected):
    assert c.derive_predicate(subject, TABLE) == expected
    assert expected in c.PREDICATES


def test_derive_predicate_converses():
    rug = box((0, 0, 0.01), (2, 2, 0.02))
    assert c.derive_predicate(rug, TABLE) == "under"  # rug top 0.02 vs table bottom 0.0
    assert c.derive_predicate(TABLE, rug) == "on"
    lamp = box((0, 0, 2.5), (0.3, 0.3, 0.3))
    assert c.derive_predicate(TABLE, lamp) == "below"
    assert c.derive_predicate(lamp, TABLE) == "above"


def test_derive_predicate_boundaries():
    # next_to holds at exactly 0.5 m, near at exactly 1.5 m (both "<=")
    assert c.derive_predicate(box((0.5 + 0.25, 0, 0.25)), box((0, 0, 0.25), (0.5, 0.5, 0.5))) != "far_from"
    a = box((0, 0, 0.5), (1, 1, 1))
    assert c.derive_predicate(box((1.0, 0, 0.5), (1, 1, 1)), a) == "next_to"  # touching faces
    assert c.derive_predicate(box((2.0, 0, 0.5), (1, 1, 1)), a) == "near"  # 1.0 m
    assert c.derive_predicate(box((3.0, 0, 0.5), (1, 1, 1)), a) == "far_from"  # 2.0 m


# --- chain and composition ---------------------------------------------------------------------------


def test_rebuild_chain_attaches_in_first_seen_order_to_the_closest_known_object():
    g = living_room()
    triplets = g.rebuild_chain()
    assert triplets == g.triplets
    assert [(t.subject, t.predicate, t.object) for t in triplets] == [
        ("cup#1", "on", "table#1"),
        ("chair#1", "next_to", "table#1"),
        ("lamp#1", "far_from", "table#1"),  # lamp and shelf both at t=2.5: label order
        ("shelf#1", "next_to", "lamp#1"),  # closer to the lamp than to the table
    ]
    for t in triplets:
        s, o = g.object(t.subject).box.center, g.object(t.object).box.center
        assert t.offset == pytest.approx([s[i] - o[i] for i in range(3)])


def test_extend_chain_only_adds_the_new_objects():
    g = living_room()
    first = g.rebuild_chain()
    assert g.extend_chain() == []
    g.merge(det("book", (4.5, 3.3, 1.65), size=(0.2, 0.15, 0.05), t=9.0))
    added = g.extend_chain()
    assert [(t.subject, t.predicate, t.object) for t in added] == [("book#1", "on", "lamp#1")]
    assert g.triplets == first + added


def test_attach_uses_only_the_anchors_and_the_ids_attached_before():
    g = living_room()
    # With the table as the only anchor, the shelf goes to the table although the lamp is closer:
    # the lamp is neither an anchor nor attached in this call.
    added = g.attach(["shelf#1", "cup#1"], ["table#1"])
    assert [(t.subject, t.predicate, t.object) for t in added] == [("cup#1", "on", "table#1"),
                                                                  ("shelf#1", "far_from", "table#1")]
    assert g.triplets == added
    # Attached in first_seen order; later ones may attach to earlier ones of the same call.
    more = g.attach(["lamp#1", "chair#1"], [])
    assert [(t.subject, t.object) for t in more] == [("lamp#1", "chair#1")]  # chair (t=1) starts a piece
    for ids, anchors, field in ((["sofa#1"], [], "ids"), (["lamp#1"], [], "ids"), ([], ["sofa#1"], "anchors")):
        with pytest.raises(c.InvalidInputError, match=field):
            g.attach(ids, anchors)
    with pytest.raises(c.InvalidInputError, match="listed twice"):
        c.SceneGraph.from_json(living_room().to_json()).attach(["cup#1", "cup#1"], [])
    with pytest.raises(c.InvalidInputError, match="also an anchor"):
        c.SceneGraph.from_json(living_room().to_json()).attach(["cup#1"], ["cup#1"])


def test_chain_of_an_empty_or_single_object_graph():
    g = c.SceneGraph()
    assert g.rebuild_chain() == []
    g.merge(det("chair", (0, 0, 0.25)))
    assert g.rebuild_chain() == []
    report = g.compose("chair#1")
    assert report.unreached == [] and report.inconsistent == [] and report.max_residual == 0


def test_rebuilt_chain_composes_back_to_every_box_centre():
    g = living_room()
    g.rebuild_chain()
    report = g.compose("table#1", tolerance=1e-9)
    assert report.root == "table#1"
    assert report.unreached == [] and report.inconsistent == []
    assert report.max_residual < 1e-12
    for o in g.objects:
        assert report.positions[o.id] == pytest.approx(o.box.center, abs=1e-12)
    # composing from a leaf walks the triplets backwards as well
    assert g.compose("lamp#1", tolerance=1e-9).inconsistent == []


def test_compose_reports_a_corrupted_offset_and_unreached_objects():
    g = living_room()
    for t in g.rebuild_chain()[:2]:
        g.add_triplet(t)
    g2 = c.SceneGraph()
    for o in g.objects:
        g2.add_object(o)
    cup, chair = g.triplets[0], g.triplets[1]
    g2.add_triplet(cup)
    g2.add_triplet(c.Triplet(chair.subject, chair.predicate, chair.object, (0.0, -0.5, 0.075)))  # true dy -0.9
    report = g2.compose("table#1")
    assert report.inconsistent == ["chair#1"]
    assert report.max_residual == pytest.approx(0.4)
    assert report.unreached == ["lamp#1", "shelf#1"]
    assert set(report.positions) == {"table#1", "cup#1", "chair#1"}


def test_compose_reports_two_paths_that_disagree():
    g = c.SceneGraph()
    for x in (0.0, 1.0, 2.0):
        g.add_object(c.Object("box", box((x, 0, 0.25))))
    g.add_triplet(c.Triplet("box#2", "next_to", "box#1", (1, 0, 0)))
    g.add_triplet(c.Triplet("box#3", "next_to", "box#2", (1, 0, 0)))
    g.add_triplet(c.Triplet("box#3", "near", "box#1", (2.5, 0, 0)))  # the loop disagrees by 0.5 m
    report = g.compose("box#1", tolerance=0.1)
    assert "box#3" in report.inconsistent
    assert g.compose("box#1", tolerance=1.0).inconsistent == []


def test_compose_rejects_bad_arguments():
    g = living_room()
    with pytest.raises(c.QueryError, match="sofa#1"):
        g.compose("sofa#1")
    with pytest.raises(c.InvalidInputError, match="tolerance"):
        g.compose("table#1", tolerance=-1)
    with pytest.raises(c.InvalidInputError, match="tolerance"):
        g.compose("table#1", tolerance=math.nan)


# --- JSON --------------------------------------------------------------------------------------------


def test_json_round_trip_is_exact():
    g = living_room()
    g.merge(det("chair", (2.05, 0.62, 0.45), confidence=0.37, t=3.3, yaw=1.1))
    g.rebuild_chain()
    text = g.to_json()
    doc = json.loads(text)
    assert (doc["format"], doc["version"]) == ("ssr-scene-graph", 1)
    assert doc["generator"] == "ssr-runtime " + c.__version__
    assert set(doc["objects"][0]) == {"id", "label", "box", "confidence", "first_seen", "last_seen", "observations"}
    back = c.SceneGraph.from_json(text)
    assert back == g
    assert back.objects == g.objects and back.triplets == g.triplets
    assert back.to_json() == text


def test_id_counters_survive_a_round_trip():
    g = c.SceneGraph()
    g.merge(det("chair", (0, 0, 0.25)))
    g.merge(det("chair", (5, 0, 0.25)))
    g.remove_object("chair#2")
    back = c.SceneGraph.from_json(g.to_json())
    assert back.merge(det("chair", (9, 0, 0.25))) == "chair#3"


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-6, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def graphs(draw):
    g = c.SceneGraph()
    for _ in range(draw(st.integers(0, 6))):
        label = draw(st.sampled_from(["chair", "table", "cup", "lamp_2"]))
        first = draw(finite)
        g.add_object(
            c.Object(
                label,
                c.Box3D((draw(finite), draw(finite), draw(finite)), (draw(positive), draw(positive), draw(positive)),
                        draw(finite)),
                confidence=draw(st.floats(0, 1)),
                first_seen=first,
                last_seen=first + draw(st.floats(0, 1e3)),
                observations=draw(st.integers(1, 2**31 - 1)),
            )
        )
    ids = [o.id for o in g.objects]
    if len(ids) >= 2:
        for _ in range(draw(st.integers(0, 4))):
            s, o = draw(st.permutations(ids))[:2]
            g.add_triplet(c.Triplet(s, draw(st.sampled_from(c.PREDICATES)), o, (draw(finite), draw(finite), draw(finite))))
    if draw(st.booleans()):
        g.room_polygon = [(draw(finite), draw(finite)) for _ in range(draw(st.integers(3, 6)))]
    return g


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_random_graphs_round_trip_exactly(g):
    back = c.SceneGraph.from_json(g.to_json())
    assert back == g
    assert back.room_polygon == g.room_polygon


def test_json_reader_decodes_escapes():
    doc = json.loads(living_room().to_json())
    text = json.dumps(doc, ensure_ascii=True).replace('"table#1"', '"\\u0074able#1"', 1)
    text = text.replace('"generator": "ssr-runtime', '"generator": "\\ud83d\\ude00 \\"\\\\\\/\\b\\f\\n\\r\\t ssr-runtime')
    assert c.SceneGraph.from_json(text).objects[0].id == "table#1"


@pytest.mark.parametrize(
    "text, line, column",
    [
        ("", 1, 1),
        ("   \n  ", 2, 3),
        ('{"a": [1, 2,]}', 1, 13),
        ('{"a": 1,}', 1, 9),
        ('{"a": 01}', 1, 8),
        ('{"a": 1.}', 1, 9),
        ('{"a": .5}', 1, 7),
        ('{"a": +1}', 1, 7),
        ('{"a": 1e400}', 1, 7),
        ('{"a": NaN}', 1, 7),
        ('{"a": Infinity}', 1, 7),
        ('{"a": tru}', 1, 10),
        ("{'a': 1}", 1, 2),
        ('{"a": "x\ny"}', 1, 9),
        ('{"a": "\\x"}', 1, 8),
        ('{"a": "\\u12g4"}', 1, 12),
        ('{"a": "\\ud800"}', 1, 8),
        ('{"a": "\\udc00\\ud800"}', 1, 8),
        ('{"a": "unterminated}', 1, 7),
        ('{"a": 1, "a": 2}', 1, 10),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3),
        ('{"a": 1} x', 1, 10),
        ('{"a" 1}', 1, 6),
        ("[1, 2] // comment", 1, 8),
    ],
)
def test_malformed_json_is_a_parse_error_with_its_position(text, line, column):
    with pytest.raises(c.ParseError) as info:
        c.SceneGraph.from_json(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"line {line}, column {column}" in str(info.value)


@pytest.mark.parametrize(
    "raw, column",
    [
        (b'{"a": "\xff"}', 8),  # not a UTF-8 byte
        (b'{"a": "\xc3"}', 8),  # truncated sequence
        (b'{"a": "\xc0\xaf"}', 8),  # overlong '/'
        (b'{"a": "\xed\xa0\x80"}', 8),  # encoded surrogate
    ],
)
def test_invalid_utf8_in_a_file_is_a_parse_error(tmp_path, raw, column):
    path = tmp_path / "bad.json"
    path.write_bytes(raw)
    with pytest.raises(c.ParseError, match="UTF-8") as info:
        c.SceneGraph.load(path)
    assert (info.value.line, info.value.column) == (1, column)


def test_deep_nesting_is_refused_without_crashing():
    for opener in ("[", '{"a":'):
        with pytest.raises(c.ParseError, match="nesting"):
            c.SceneGraph.from_json(opener * 200_000)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_never_crashes(text):
    try:
        c.SceneGraph.from_json(text)
    except c.ParseError as e:
        assert 1 <= e.line <= text.count("\n") + 1
        assert e.column >= 1
    except c.InvalidInputError:
        pass  # well-formed JSON that is not a scene graph


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_documents_never_crash(data):
    text = living_room().to_json()
    at = data.draw(st.integers(0, len(text) - 1))
    damaged = text[:at] + data.draw(st.sampled_from(["", "{", "]", '"', ",", "x", "-", "\\", "1e999"])) + text[at + 1:]
    try:
        c.SceneGraph.from_json(damaged)
    except (c.ParseError, c.InvalidInputError):
        pass


def edited(mutate):
    doc = json.loads(living_room().to_json())
    mutate(doc)
    return json.dumps(doc)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["objects"][3]["box"].pop("size"), r"objects\[3\]\.box\.size: missing"),
        (lambda d: d["objects"][1].update(observations="3"), r"objects\[1\]\.observations: expected a number"),
        (lambda d: d["objects"][1].update(observations=2.5), r"objects\[1\]\.observations: expected an integer"),
        (lambda d: d["objects"][1].update(observations=0), r"objects\[1\]\.observations"),
        (lambda d: d["objects"][0]["box"].update(center=[1, 2]), r"objects\[0\]\.box\.center: expected 3"),
        (lambda d: d["objects"][0]["box"].update(size=[1, -2, 1]), r"objects\[0\]\.box"),
        (lambda d: d["objects"][0].update(colour="red"), r"objects\[0\]\.colour: unknown field"),
        (lambda d: d["objects"][2].update(id="Chair#1"), r"objects\[2\]\.id"),
        (lambda d: d["objects"][2].update(id=""), r"objects\[2\]\.id"),
        (lambda d: d["objects"][2].update(label=""), r"objects\[2\]\.label: '' does not match"),
        (lambda d: d["objects"][2].update(label="sofa"), r"objects\[2\]\.label: 'sofa' does not match"),
        (lambda d: d["objects"][2].update(id="table#1", label="table"), r"objects\[2\]\.id: 'table#1' already"),
        (lambda d: d["objects"][2].update(confidence=1.5), r"objects\[2\]\.confidence"),
        (lambda d: d.pop("triplets"), r"^triplets: missing"),
        (lambda d: d.update(triplets=[{"subject": "cup#1", "predicate": "on", "object": "sofa#9",
                                       "offset": [0, 0, 0]}]), r"triplets\[0\]\.object: no object 'sofa#9'"),
        (lambda d: d.update(triplets=[{"subject": "cup#1", "predicate": "left_of", "object": "table#1",
                                       "offset": [0, 0, 0]}]), r"triplets\[0\]\.predicate"),
        (lambda d: d.update(room_polygon=[[0, 0], [1, 0]]), r"room_polygon: needs at least 3"),
        (lambda d: d.update(room_polygon=[[0, 0], [1, 0], [1]]), r"room_polygon\[2\]: expected 2"),
        (lambda d: d.update(next_index={"Chair": 2}), r"next_index\.Chair"),
        (lambda d: d.update(next_index={"chair": 0}), r"next_index\.chair: must be >= 1"),
        (lambda d: d.update(extra=1), r"^extra: unknown field"),
        (lambda d: d.update(format="ssr-scene"), r"format: 'ssr-scene' is not ssr-scene-graph"),
        (lambda d: d.pop("format"), r"format: missing"),
        (lambda d: d.update(version="1"), r"version: expected a number"),
        (lambda d: d.update(version=0), r"version: must be >= 1"),
    ],
)
def test_bad_fields_are_named(mutate, field):
    with pytest.raises(c.InvalidInputError, match=field):
        c.SceneGraph.from_json(edited(mutate))


def test_newer_versions_are_refused_clearly():
    with pytest.raises(c.InvalidInputError, match=r"version 2.*reads versions up to 1.*upgrade"):
        c.SceneGraph.from_json(edited(lambda d: d.update(version=2)))


def test_non_object_documents_are_refused():
    for text in ("[]", "1", '"ssr-scene-graph"', "null"):
        with pytest.raises(c.InvalidInputError, match="document: expected an object"):
            c.SceneGraph.from_json(text)


def test_version_1_fixture_still_loads():
    g = c.SceneGraph.load(DATA / "scene_graph_v1.json")
    assert [o.id for o in g.objects] == ["table#1", "cup#1", "chair#2", "lamp#1"]
    chair = g.object("chair#2")
    assert chair.box == c.Box3D((2.0, 0.6, 0.45), (0.5, 0.5, 0.9), 1.5707963267948966)
    assert (chair.confidence, chair.first_seen, chair.last_seen, chair.observations) == (0.88, 1.0, 3.0, 5)
    assert [(t.subject, t.predicate, t.object) for t in g.triplets] == [
        ("cup#1", "on", "table#1"), ("chair#2", "next_to", "table#1"), ("lamp#1", "far_from", "table#1")]
    assert g.room_polygon == [[0.0, 0.0], [5.0, 0.0], [5.0, 4.0], [0.0, 4.0]]
    assert g.compose("table#1", tolerance=1e-9).inconsistent == []
    assert g.merge(det("chair", (0.3, 3.5, 0.45))) == "chair#3"  # the file's counter, not max(n) + 1
    assert c.SceneGraph.from_json(g.to_json()) == g


# --- files -------------------------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path):
    g = living_room()
    g.rebuild_chain()
    path = tmp_path / "graph.json"
    g.save(path)
    assert c.SceneGraph.load(path) == g
    assert c.SceneGraph.load(str(path)) == g
    assert path.read_text() == g.to_json()
    assert os.listdir(tmp_path) == ["graph.json"]  # no temp file left behind


def test_save_replaces_the_previous_file(tmp_path):
    path = tmp_path / "graph.json"
    living_room().save(path)
    path.chmod(0o640)
    g = c.SceneGraph()
    g.merge(det("chair", (0, 0, 0.25)))
    g.save(path)
    assert c.SceneGraph.load(path) == g
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["graph.json"]


def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "graph.json"
    good = living_room()
    good.save(path)
    before = path.read_bytes()
    bad = living_room()
    bad.room_polygon = [(0, 0), (math.nan, 0), (1, 1)]
    with pytest.raises(c.InvalidInputError, match=r"room_polygon\[1\]"):
        bad.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["graph.json"]


def test_save_over_a_folder_fails_and_cleans_up(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(c.InvalidInputError, match="path: cannot replace"):
        living_room().save(target)
    assert sorted(os.listdir(tmp_path)) == ["taken"]
    assert os.listdir(target) == ["keep.txt"]


def test_file_errors_name_the_path(tmp_path):
    with pytest.raises(c.InvalidInputError, match="path: cannot create"):
        living_room().save(tmp_path / "no" / "such" / "folder.json")
    with pytest.raises(c.InvalidInputError, match="path: cannot open"):
        c.SceneGraph.load(tmp_path / "missing.json")
    with pytest.raises(c.InvalidInputError, match="path: cannot read"):
        c.SceneGraph.load(tmp_path)
    (tmp_path / "broken.json").write_text('{"format": "ssr-scene-graph",\n "version": }')
    with pytest.raises(c.ParseError) as info:
        c.SceneGraph.load(tmp_path / "broken.json")
    assert (info.value.line, info.value.column) == (2, 13)


def test_last_seen_defaults_to_first_seen():
    obj = c.Object("lamp", c.Box3D((0, 0, 0.5), (0.3, 0.3, 0.6)), first_seen=2.5)
    assert obj.last_seen == 2.5


def test_object_lists_are_copies_that_outlive_removal():
    g = c.SceneGraph()
    for _ in range(3):
        g.add_object(c.Object("chair", box((0, 0, 0.25))))
    g.rebuild_chain()
    objects, triplets = list(g.objects), list(g.triplets)
    g.remove_object(objects[0].id)
    assert [o.id for o in objects] == ["chair#1", "chair#2", "chair#3"]
    assert all(t.subject.startswith("chair#") for t in triplets)
