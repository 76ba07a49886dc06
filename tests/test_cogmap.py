"""LocalCogMaps built from a scene graph, the global map, localization error and the grid view."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssr_runtime import _core as c


def graph_with(*objects, polygon=()):
    g = c.SceneGraph()
    for label, x, y in objects:
        g.add_object(c.Object(label, c.Box3D((x, y, 0.4), (0.4, 0.4, 0.8))))
    g.room_polygon = list(polygon)
    return g


def expected_cell(x, y, cx, cy, res):
    """docs/FORMATS.md: i = floor((x - cx) / res) + 5, j likewise; None outside 0..9."""
    i, j = math.floor((x - cx) / res) + 5, math.floor((y - cy) / res) + 5
    return (i, j) if 0 <= i <= 9 and 0 <= j <= 9 else None


def cells(cogmap):
    return {cell.id: (cell.i, cell.j) for cell in cogmap.cells}


def test_local_map_around_an_object():
    g = graph_with(("table", 1.0, 1.0), ("chair", 1.2, 1.3), ("cup", 0.9, 0.6), ("lamp", 3.4, -1.0),
                   ("bed", 3.6, 1.0), ("sofa", -1.5, 3.49))
    m = c.build_cogmap(g, "table#1")
    assert (m.anchor, m.res, m.at) == ("table#1", 0.5, None)
    assert cells(m) == {"chair#1": (5, 5), "cup#1": (4, 4), "lamp#1": (9, 1), "sofa#1": (0, 9)}
    assert [cell.id for cell in m.cells] == ["chair#1", "cup#1", "lamp#1", "sofa#1"]  # graph order
    # bed#1: (3.6 - 1.0) / 0.5 = 5.2 -> i = 10, off the grid
    for o in g.objects:
        if o.id != "table#1":
            assert cells(m).get(o.id) == expected_cell(o.box.center[0], o.box.center[1], 1.0, 1.0, 0.5)


def test_grid_edges_are_half_open():
    g = graph_with(("table", 0, 0), ("cup", -2.5, 2.4999), ("lamp", 2.5, 0))
    assert cells(c.build_cogmap(g, "table#1")) == {"cup#1": (0, 9)}  # x - cx = +2.5 -> i = 10


def test_res_sets_the_cell_size():
    g = graph_with(("table", 0, 0), ("chair", 1.9, -0.3))
    assert cells(c.build_cogmap(g, "table#1", res=1.0)) == {"chair#1": (6, 4)}
    assert cells(c.build_cogmap(g, "table#1", res=0.25)) == {}


def test_map_at_camera_or_room_holds_every_object():
    g = graph_with(("table", 1.0, 1.0), ("chair", 1.2, 1.3))
    m = c.build_cogmap_at(g, "camera", (1.0, 1.0), res=0.5)
    assert (m.anchor, m.at) == ("camera", [1.0, 1.0])
    assert cells(m) == {"table#1": (5, 5), "chair#1": (5, 5)}
    assert cells(c.build_cogmap_at(g, "room", (3.0, 3.0), res=1.0)) == {"table#1": (3, 3), "chair#1": (3, 3)}


def test_bad_arguments_are_refused():
    g = graph_with(("table", 0, 0))
    with pytest.raises(c.QueryError, match="sofa#1"):
        c.build_cogmap(g, "sofa#1")
    for res in (0.0, -0.5, math.nan, math.inf):
        with pytest.raises(c.InvalidInputError, match="res"):
            c.build_cogmap(g, "table#1", res=res)
        with pytest.raises(c.InvalidInputError, match="res"):
            c.build_cogmap_at(g, "room", (0, 0), res=res)
    with pytest.raises(c.InvalidInputError, match="anchor"):
        c.build_cogmap_at(g, "table#1", (0, 0))
    with pytest.raises(c.InvalidInputError, match="at"):
        c.build_cogmap_at(g, "camera", (math.nan, 0))


def test_global_map_covers_the_room_polygon():
    g = graph_with(("bed", 1.0, 5.5), ("desk", 7.9, 0.1), ("lamp", 4.0, 3.0),
                   polygon=[(0, 0), (8, 0), (8, 6), (0, 6)])
    m = c.build_global_cogmap(g)
    assert (m.anchor, m.res, m.at) == ("room", 0.8, [4.0, 3.0])
    assert cells(m) == {"bed#1": (1, 8), "desk#1": (9, 1), "lamp#1": (5, 5)}
    half = c.build_global_cogmap(g, size=5)
    assert half.res == 1.6
    assert cells(half) == {"bed#1": (3, 6), "desk#1": (7, 3), "lamp#1": (5, 5)}


def test_global_map_res_is_rounded_up_to_whole_centimetres():
    g = graph_with(("lamp", 1, 1), polygon=[(0, 0), (3.0, 0), (3.0, 2.0)])
    assert c.build_global_cogmap(g).res == 0.3  # not 0.31 from rounding noise
    g.room_polygon = [(0, 0), (3.001, 0), (3.001, 2.0)]
    assert c.build_global_cogmap(g).res == 0.31


def test_global_map_without_a_polygon_uses_object_footprints():
    g = graph_with(("bed", 0.0, 0.0), ("desk", 3.6, 1.0))  # footprints span x -0.2..3.8, y -0.2..1.2
    m = c.build_global_cogmap(g)
    assert m.at == pytest.approx([1.8, 0.5])
    assert m.res == 0.4
    assert cells(m) == {"bed#1": (0, 3), "desk#1": (9, 6)}


def test_global_map_bad_input():
    with pytest.raises(c.InvalidInputError, match="graph"):
        c.build_global_cogmap(c.SceneGraph())
    g = graph_with(("bed", 0.0, 0.0))
    for size in (0, 11):
        with pytest.raises(c.InvalidInputError, match="size"):
            c.build_global_cogmap(g, size=size)
    g.room_polygon = [(0, 0), (math.inf, 0), (1, 1)]
    with pytest.raises(c.InvalidInputError, match="room_polygon"):
        c.build_global_cogmap(g)


coordinate = st.floats(-50, 50, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(st.tuples(coordinate, coordinate), st.floats(0.5, 40), st.floats(0.5, 40), st.lists(st.tuples(st.floats(0.01, 0.99), st.floats(0.01, 0.99)), min_size=1, max_size=8))
def test_global_map_holds_every_object_inside_the_room(origin, width, depth, fractions):
    x0, y0 = origin
    g = c.SceneGraph()
    for fx, fy in fractions:
        g.add_object(c.Object("box", c.Box3D((x0 + fx * width, y0 + fy * depth, 0.5), (0.1, 0.1, 1.0))))
    g.room_polygon = [(x0, y0), (x0 + width, y0), (x0 + width, y0 + depth), (x0, y0 + depth)]
    m = c.build_global_cogmap(g)
    assert len(m.cells) == len(g)
    assert max(width, depth) / 10 - 1e-9 <= m.res < max(width, depth) / 10 + 0.01 + 1e-9


def test_localization_error():
    truth = c.CogMap("table#1", 0.5, cells=[c.CogMapCell("chair#1", 5, 5), c.CogMapCell("cup#1", 2, 2),
                                            c.CogMapCell("lamp#1", 9, 0)])
    same = c.localization_error(truth, truth)
    assert (same.mean_cells, same.matched, same.missing, same.extra) == (0.0, 3, [], [])
    predicted = c.CogMap("table#1", 0.5, cells=[c.CogMapCell("cup#1", 5, 6), c.CogMapCell("chair#1", 5, 5),
                                                c.CogMapCell("bed#1", 1, 1)])
    e = c.localization_error(predicted, truth)
    assert e.mean_cells == pytest.approx(2.5)  # cup off by (3, 4) = 5 cells, chair exact
    assert (e.matched, e.missing, e.extra) == (2, ["lamp#1"], ["bed#1"])


def test_localization_error_without_shared_ids_is_nan():
    e = c.localization_error(c.CogMap("room", 1.0, (0, 0)), c.CogMap("room", 1.0, (0, 0), [c.CogMapCell("bed#1", 1, 1)]))
    assert math.isnan(e.mean_cells)
    assert (e.matched, e.missing) == (0, ["bed#1"])


def test_localization_error_needs_comparable_maps():
    a = c.CogMap("table#1", 0.5)
    with pytest.raises(c.InvalidInputError, match="anchor"):
        c.localization_error(a, c.CogMap("chair#1", 0.5))
    with pytest.raises(c.InvalidInputError, match="res"):
        c.localization_error(a, c.CogMap("table#1", 0.25))
    twice = c.CogMap("table#1", 0.5, cells=[c.CogMapCell("cup#1", 1, 1), c.CogMapCell("cup#1", 2, 2)])
    with pytest.raises(c.InvalidInputError, match=r"predicted\.cells\[1\]"):
        c.localization_error(twice, a)


def test_local_maps_measure_a_shifted_scene():
    truth_graph = graph_with(("table", 0, 0), ("chair", 1.2, 0.3), ("cup", -0.7, -1.6))
    shifted = graph_with(("table", 0, 0), ("chair", 1.7, 0.3), ("cup", -0.7, -1.6))
    e = c.localization_error(c.build_cogmap(shifted, "table#1"), c.build_cogmap(truth_graph, "table#1"))
    assert (e.mean_cells, e.matched) == (0.5, 2)  # the chair moved one cell along +x


def test_grid_and_render():
    m = c.CogMap("room", 1.0, (0, 0), [c.CogMapCell("bed#1", 0, 9), c.CogMapCell("cup#1", 3, 2),
                                       c.CogMapCell("cup#2", 3, 2)])
    grid = m.grid()
    assert len(grid) == 10 and all(len(column) == 10 for column in grid)
    assert grid[0][9] == ["bed#1"] and grid[3][2] == ["cup#1", "cup#2"]
    assert sum(len(ids) for column in grid for ids in column) == 3
    lines = m.render().splitlines()
    assert len(lines) == 10
    assert lines[0].split()[0] == "bed#1"  # j = 9 is the top row
    assert lines[9 - 2].split()[3] == "cup#1,cup#2"
    assert lines[5].split() == ["."] * 10


def test_grid_refuses_cells_off_the_map():
    m = c.CogMap("room", 1.0, (0, 0), [c.CogMapCell("bed#1", 0, 1), c.CogMapCell("cup#1", 10, 2)])
    with pytest.raises(c.InvalidInputError, match=r"cells\[1\]"):
        m.grid()
    with pytest.raises(c.InvalidInputError, match=r"cells\[1\]"):
        m.render()
