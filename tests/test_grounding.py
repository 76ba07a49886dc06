"""runtime.grounding: sightings from cell probabilities and positions, boxes moved to their label's
nearest sighting, new boxes for sightings of labels the model did not write, the cell memory and what
it recalls, and bad parameters named."""

import numpy as np
import pytest

from ssr_runtime import _core
from ssr_runtime.runtime.grounding import (CellMemory, GroundingParams, Sighting, ground_elements, recall_missing,
                                          sightings)

LABELS = ["bed", "chair", "sofa"]
SIZES = {"bed": (2.0, 1.5, 0.5), "chair": (0.5, 0.5, 0.9), "sofa": (2.0, 0.9, 0.8)}
BED, CHAIR, SOFA = 1, 2, 3


def cells(*rows):
    """(probabilities [M, 4], xyz [M, 3]) from (class, probability, x, y, z) rows; the rest of each
    row's probability is class 0 (no object)."""
    probabilities = np.zeros((len(rows), len(LABELS) + 1))
    xyz = np.zeros((len(rows), 3))
    for m, (k, p, x, y, z) in enumerate(rows):
        probabilities[m, k], probabilities[m, 0] = p, 1 - p
        xyz[m] = x, y, z
    return probabilities, xyz


def test_cells_of_one_label_link_into_one_sighting_at_their_weighted_mean():
    probabilities, xyz = cells((SOFA, 0.9, 1.0, 1.0, 0.4), (SOFA, 0.3, 1.6, 1.0, 0.4), (SOFA, 0.8, 4.0, 1.0, 0.4),
                               (CHAIR, 0.2, 2.0, 2.0, 0.5))
    found = sightings(probabilities, xyz, LABELS, GroundingParams(threshold=0.3, link_m=0.8))
    assert [s.label for s in found] == ["sofa", "sofa"]  # the chair cell is below the threshold
    assert found[0].center == pytest.approx([(0.9 * 1.0 + 0.3 * 1.6) / 1.2, 1.0, 0.4])
    assert found[1].center == pytest.approx([4.0, 1.0, 0.4])


def test_linking_is_transitive_along_a_chain_of_close_cells():
    probabilities, xyz = cells(*[(BED, 0.9, 0.5 * i, 0.0, 0.3) for i in range(5)])
    found = sightings(probabilities, xyz, LABELS, GroundingParams(link_m=0.6))
    assert len(found) == 1 and found[0].center[0] == pytest.approx(1.0)


def box(oid, x, y, z=0.4, size=(1.0, 1.0, 0.8)):
    return _core.BoxText(oid, _core.Box3D([x, y, z], list(size), 0.3))


def test_a_new_box_moves_to_its_labels_nearest_sighting_and_keeps_its_height_size_and_yaw():
    found = [Sighting("sofa", np.array([1.0, 1.0, 0.2])), Sighting("sofa", np.array([5.0, 5.0, 0.2]))]
    grounded = ground_elements([box("sofa#1", 2.0, 1.5)], known_ids=set(), found=found, sizes=SIZES)
    assert len(grounded) == 1
    moved = grounded[0]
    assert moved.id == "sofa#1" and moved.box.center == pytest.approx([1.0, 1.0, 0.4])
    assert moved.box.size == pytest.approx([1.0, 1.0, 0.8]) and moved.box.yaw == pytest.approx(0.3)


def test_known_objects_triplets_and_boxes_of_unsighted_labels_stay_as_written():
    triplet = _core.Triplet("chair#2", "near", "bed#1", [1.0, 0.0, 0.0])
    elements = [box("bed#1", 3.0, 3.0), box("chair#2", 0.0, 0.0), triplet]
    found = [Sighting("bed", np.array([9.0, 9.0, 0.3]))]
    grounded = ground_elements(elements, known_ids={"bed#1"}, found=found, sizes=SIZES)
    assert grounded[0].box.center == pytest.approx([3.0, 3.0, 0.4])  # known: the graph's, not the window's
    assert grounded[1].box.center == pytest.approx([0.0, 0.0, 0.4])  # no chair sighted
    assert grounded[2] == triplet
    # a known object's label is not written by this window: its sighting is a box, which the graph's
    # merge joins to the known bed when close (here it is not), numbered after it
    assert [e.id for e in grounded[3:]] == ["bed#2"]


def test_a_sighting_of_a_label_without_a_new_box_adds_one_at_its_typical_size_numbered_after_the_window():
    elements = [box("chair#3", 0.0, 0.0)]
    found = [Sighting("sofa", np.array([2.0, 1.0, 0.1])), Sighting("bed", np.array([4.0, 1.0, 0.9])),
             Sighting("chair", np.array([0.2, 0.1, 0.4]))]
    grounded = ground_elements(elements, known_ids={"sofa#1", "chair#1"}, found=found, sizes=SIZES)
    added = {e.id: e.box for e in grounded[1:]}
    assert set(added) == {"sofa#2", "bed#1"}  # chair was written: its sighting moved it instead
    assert added["sofa#2"].center == pytest.approx([2.0, 1.0, 0.4])  # raised to half its height: on the floor
    assert added["sofa#2"].size == pytest.approx([2.0, 0.9, 0.8])
    assert added["bed#1"].center == pytest.approx([4.0, 1.0, 0.9])
    assert grounded[0].box.center == pytest.approx([0.2, 0.1, 0.4])
    assert _core.parse_document(_core.format_document(grounded))  # what it adds is valid text


@pytest.mark.parametrize("field, value, message", [("threshold", 0.0, "a value"), ("threshold", 1.5, "a value"),
                                                   ("recall_share", 0.0, "a value"), ("link_m", 0.0, "metres"),
                                                   ("merge_distance_m", -1.0, "metres")])
def test_bad_parameters_are_named(field, value, message):
    with pytest.raises(ValueError, match=f"GroundingParams.{field}: expected {message}"):
        GroundingParams(**{field: value})


def test_a_file_without_the_grounding_outputs_is_refused():
    from ssr_runtime.runtime.grounding import OnnxGrounding
    from ssr_runtime.runtime.session import DEFAULT_MODEL

    with pytest.raises(ValueError, match=r"encoder.onnx: expected outputs \['cell_labels', 'cell_xyz'\], got \['tokens'\]"):
        OnnxGrounding(DEFAULT_MODEL / "encoder.onnx", LABELS, SIZES)


def test_the_cell_memory_keeps_each_labels_likeliest_cells_up_to_its_capacity():
    memory = CellMemory(len(LABELS) + 1, capacity=3)
    for t, p in enumerate([0.1, 0.9, 0.5, 0.7, 0.2]):
        memory.add(*cells((SOFA, p, float(t), 0.0, 0.4), (CHAIR, 0.05, 9.0, 9.0, 0.5)), t=float(t))
    assert memory.probability.shape == (4, 3)  # bounded: classes x capacity, however long the stream
    assert sorted(memory.probability[SOFA]) == pytest.approx([0.5, 0.7, 0.9])
    kept = {round(float(p), 2): float(t) for p, t in zip(memory.probability[SOFA], memory.t[SOFA])}
    assert kept == {0.9: 1.0, 0.5: 2.0, 0.7: 3.0}  # each cell keeps its window's time
    assert memory.xyz[SOFA][memory.probability[SOFA].argmax()] == pytest.approx([1.0, 0.0, 0.4])
    with pytest.raises(ValueError, match=r"expected probabilities \[M, 4\] and xyz \[M, 3\], got \[2, 3\]"):
        memory.add(np.zeros((2, 3)), np.zeros((2, 3)), t=9.0)


def test_recall_takes_the_group_of_most_probability_mass_among_the_likeliest_cells():
    memory = CellMemory(len(LABELS) + 1)
    # one strong cell far away, against three nearly as likely cells together, first seen in window 2
    memory.add(*cells((BED, 0.30, 8.0, 8.0, 0.3), (BED, 0.04, 0.0, 0.0, 0.3)), t=1.0)
    memory.add(*cells((BED, 0.20, 1.0, 1.0, 0.3), (BED, 0.25, 1.5, 1.0, 0.5)), t=2.0)
    memory.add(*cells((BED, 0.20, 1.0, 1.6, 0.3)), t=3.0)
    place, first_t, probability = memory.recall(BED, GroundingParams(link_m=0.8, recall_share=0.5))
    assert place == pytest.approx([(0.2 * 1.0 + 0.25 * 1.5 + 0.2 * 1.0) / 0.65, (0.2 + 0.25 + 0.2 * 1.6) / 0.65,
                                   (0.2 * 0.3 + 0.25 * 0.5 + 0.2 * 0.3) / 0.65])
    assert first_t == 2.0 and probability == pytest.approx(0.30)  # the cell below half of 0.30 is left out
    assert memory.recall(CHAIR, GroundingParams()) is None  # no cell gave a chair any probability
    assert CellMemory(len(LABELS) + 1).recall(BED, GroundingParams()) is None


def test_recall_missing_adds_only_the_labels_the_graph_lacks_at_their_typical_size():
    memory = CellMemory(len(LABELS) + 1)
    memory.add(*cells((SOFA, 0.6, 3.0, 2.0, 0.1), (CHAIR, 0.8, 5.0, 5.0, 0.5)), t=4.0)
    graph = _core.SceneGraph()
    graph.merge(_core.Detection("chair", _core.Box3D([0.0, 0.0, 0.45], [0.5, 0.5, 0.9]), 1.0, 0.0), _core.MergeParams())
    added = recall_missing(graph, ["chair", "sofa", "bed", "lamp", "sofa"], memory, LABELS, SIZES, GroundingParams())
    assert added == ["sofa#1"]  # the chair is held; no cell showed a bed; the heads know no lamp
    sofa = graph.object("sofa#1")
    assert sofa.box.center == pytest.approx([3.0, 2.0, 0.4])  # on the floor: half its typical height
    assert sofa.box.size == pytest.approx(SIZES["sofa"]) and sofa.first_seen == pytest.approx(4.0)
    assert [o.id for o in graph.objects_with_label("chair")] == ["chair#1"]


def test_the_cell_memory_survives_json_and_a_damaged_record_is_refused():
    memory = CellMemory(len(LABELS) + 1, capacity=2)
    memory.add(*cells((SOFA, 0.6, 3.0, 2.0, 0.1), (BED, 0.8, 5.0, 5.0, 0.5), (BED, 0.7, 1.0, 1.0, 0.3)), t=4.0)
    back = CellMemory.from_json(memory.to_json())
    for name in ("probability", "xyz", "t"):
        assert np.array_equal(getattr(back, name), getattr(memory, name))
    assert back.capacity == 2
    record = memory.to_json()
    record["shape"] = [4, 3]
    with pytest.raises(ValueError, match=r"expected \[4, 3\] float32 values, got 8"):
        CellMemory.from_json(record)
