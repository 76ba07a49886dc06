"""Training samples on generated scans: windows, ids, stage-1 and stage-2 texts, and the prepared files."""

import json
import re
from collections import Counter, defaultdict

import numpy as np
import pytest

from ssr_runtime import _core
from ssr_runtime.data.generate import GenerationSettings, generate_dataset
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.questions import generate_questions
from ssr_runtime.eval.records import Question
from ssr_runtime.eval.structured import ProgramResult, choice_text, engine_args, ground_truth_graph
from ssr_runtime.training import samples as S
from ssr_runtime.training.dataset import iter_samples, load_frames, load_samples, prepare, read_scan, scene_samples

TOKENS = 3


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scans")
    generate_dataset(folder, scenes=2, seed=11, settings=GenerationSettings(frames=30, width=160, height=120),
                     progress=False)
    return folder


@pytest.fixture(scope="module")
def scans(data_dir):
    return [read_scan(data_dir / f"scene_{seed:06d}") for seed in (11, 12)]


@pytest.fixture(scope="module")
def questions(scans):
    by_scene = defaultdict(list)
    for q in generate_questions([scan.scene for scan in scans], seed=0):
        by_scene[q.scene_id].append(q)
    return by_scene


@pytest.fixture(scope="module")
def built(scans, questions):
    """Per scan: ids, the stage-1 result (empty windows not yet dropped), stage-1 and stage-2 samples."""
    out = []
    for scan in scans:
        ids = S.assign_ids(scan.scene, scan.views)
        stage1, stage2 = scene_samples(scan, questions[scan.scene.scene_id], seed=5, tokens_per_frame=TOKENS)
        out.append((scan, ids, stage1, stage2))
    return out


def parse_target(sample):
    assert sample.target.endswith(S.END) and sample.target.count(S.END) == 1
    records = _core.parse_document(sample.target_document)
    assert _core.format_document(records) == sample.target_document  # canonical text
    return records


def new_boxes(stage1):
    return [r for s in stage1 if s.kind == S.KIND_NEW for r in parse_target(s) if isinstance(r, _core.BoxText)]


# --- keyframes and windows ----------------------------------------------------------------------

def test_windows_cover_keyframes_in_order():
    for n in (0, 1, 3, 4, 5, 8, 13):
        keys = list(range(100, 100 + 3 * n, 3))
        groups = S.windows(keys)
        assert [k for g in groups for k in g] == keys
        assert all(len(g) == S.WINDOW for g in groups[:-1])
        assert all(1 <= len(g) <= S.WINDOW for g in groups)
    with pytest.raises(ValueError):
        S.windows([1, 2], size=0)


def test_keyframes_match_the_selector_and_the_scan(data_dir, scans):
    frames = list(iter_scene_frames(data_dir / "scene_000011"))
    chosen = S.keyframes(frames)
    selector = _core.KeyframeSelector()
    assert chosen == [i for i, f in enumerate(frames) if selector.consider(f.depth, f.K, f.T_wc)]
    assert chosen[0] == 0 and chosen == sorted(set(chosen))
    assert [v.index for v in scans[0].views] == chosen
    assert len(scans[0].frames) == len(chosen)


def test_visible_instances_threshold_and_mean_column():
    mask = np.zeros((4, 6), np.uint16)
    mask[:, 1] = 3  # 4 pixels in column 1
    mask[0, 4:6] = 7  # 2 pixels, columns 4 and 5
    assert S.visible_instances(mask, 2) == {3: 1.0, 7: 4.5}
    assert S.visible_instances(mask, 3) == {3: 1.0}


# --- ids ------------------------------------------------------------------------------------------

def test_ids_follow_first_appearance_left_to_right(scans):
    scene = scans[0].scene
    label = Counter(o.label for o in scene.objects).most_common(1)[0][0]
    chairs = [o for o in scene.objects if o.label == label]
    assert len(chairs) >= 2
    views = [S.KeyframeView(0, 0.0, {chairs[-1].instance_id: 10.0}),
             S.KeyframeView(1, 1.0, {o.instance_id: float(100 - i) for i, o in enumerate(chairs)})]
    ids = S.assign_ids(scene, views)
    assert ids[chairs[-1].instance_id] == f"{label}#1"
    # In the second keyframe the rest are numbered by column: the last listed is the leftmost.
    rest = sorted(chairs[:-1], key=lambda o: 100 - chairs.index(o))
    assert [ids[o.instance_id] for o in rest] == [f"{label}#{n}" for n in range(2, len(chairs) + 1)]
    assert sorted(ids) == sorted(o.instance_id for o in scene.objects)


def match_objects(scan, ids, records):
    """The scene ids of the objects whose ground-truth boxes the <box> records show (centimetre text)."""
    matched = []
    for r in (r for r in records if isinstance(r, _core.BoxText)):
        hits = [ids[o.instance_id] for o in scan.scene.objects
                if o.label == r.id.split("#")[0] and np.abs(np.subtract(o.box.center, r.box.center)).max() <= 0.0051
                and np.abs(np.subtract(o.box.size, r.box.size)).max() <= 0.0051]
        assert len(hits) == 1, r
        matched.append(hits[0])
    return matched


def prompt_context(sample):
    graph_part = sample.prompt[len(S.GRAPH_MARK) + 1: sample.prompt.index(f"\n{S.WINDOW_MARK}")]
    return _core.parse_document(graph_part)


def window_replay(scan, ids, stage1):
    """Per NEW sample: (sample, context records, target records, context scene ids, new scene ids)."""
    for sample in (s for s in stage1 if s.kind == S.KIND_NEW):
        context, target = prompt_context(sample), parse_target(sample)
        yield sample, context, target, match_objects(scan, ids, context), match_objects(scan, ids, target)


def test_every_new_object_appears_once_across_stage1_targets(built):
    for scan, ids, stage1, _ in built:
        shown = {i for v in scan.views for i in v.visible}
        written = [oid for *_, new in window_replay(scan, ids, stage1) for oid in new]
        assert len(written) == len(set(written))
        assert sorted(written) == sorted(ids[i] for i in shown)


def test_new_objects_are_those_first_shown_in_the_window(built):
    for scan, ids, stage1, _ in built:
        first = S.first_views(scan.views)
        for sample, *_, new in window_replay(scan, ids, stage1):
            assert set(new) == {ids[i] for i, (position, _) in first.items() if position in sample.frames}


def test_context_is_the_known_objects_near_the_window_points(built):
    # Independent of local_object_ids' numpy: the core's box distance from a 1 mm box at each point.
    for scan, ids, stage1, _ in built:
        by_id = {ids[o.instance_id]: o for o in scan.scene.objects}
        known, contexts = [], 0
        for sample, context, _, context_ids, new in window_replay(scan, ids, stage1):
            points = S.window_points(scan.frames.geometry[list(sample.frames)])
            near = [oid for oid in known
                    if any(_core.box_distance(_core.Box3D(p, (1e-3, 1e-3, 1e-3)), _core.Box3D(
                        by_id[oid].box.center, by_id[oid].box.size, by_id[oid].box.yaw)) <= S.LOCAL_MARGIN_M
                           for p in points)]
            assert sorted(context_ids) == sorted(near)
            assert all(isinstance(r, _core.BoxText) for r in context)
            contexts += bool(context_ids)
            known += new
        assert contexts >= 2


def test_window_ids_count_per_label_over_context_then_new(built):
    for scan, ids, stage1, _ in built:
        for _, context, target, _, _ in window_replay(scan, ids, stage1):
            seen = Counter()
            for r in [*context, *(t for t in target if isinstance(t, _core.BoxText))]:
                label, n = r.id.split("#")
                seen[label] += 1
                assert int(n) == seen[label], r.id


def test_triplets_attach_new_objects_to_the_closest_window_object(built):
    # Replaying each window in a graph under the window's ids, SceneGraph.attach writes the same lines.
    for scan, ids, stage1, _ in built:
        first_t = {ids[i]: scan.views[position].t for i, (position, _) in S.first_views(scan.views).items()}
        by_id = {ids[o.instance_id]: o for o in scan.scene.objects}
        pieces = 0
        for _, context, target, context_ids, new_ids in window_replay(scan, ids, stage1):
            graph = _core.SceneGraph()
            for r, oid in zip([*context, *(t for t in target if isinstance(t, _core.BoxText))], context_ids + new_ids):
                box = by_id[oid].box
                graph.add_object(_core.Object(r.id.split("#")[0], _core.Box3D(box.center, box.size, box.yaw), id=r.id,
                                              first_seen=first_t[oid]))
            new_names = [t.id for t in target if isinstance(t, _core.BoxText)]
            written = [_core.format_triplet(t) for t in target if isinstance(t, _core.Triplet)]
            assert written == [_core.format_triplet(t) for t in graph.attach(new_names, [r.id for r in context])]
            pieces += bool(new_names) and not context
            assert len(written) == len(new_names) - (bool(new_names) and not context)
        assert pieces >= 1  # the first window starts the chain


def test_prompts_hold_vis_slots_and_marks(built):
    for _, _, stage1, _ in built:
        for sample in stage1:
            assert sample.prompt.count(S.VIS) == TOKENS * len(sample.frames)
            assert sample.prompt.startswith(f"{S.GRAPH_MARK}\n")
            mark = {S.KIND_NEW: S.NEW_MARK, S.KIND_COGMAP: S.COGMAP_MARK, S.KIND_LABELS: S.LABELS_MARK}[sample.kind]
            assert sample.prompt.rsplit("\n", 2)[1].startswith(mark)
            assert 1 <= len(sample.frames) <= S.WINDOW


def test_label_samples_list_what_the_window_shows_and_where_without_context(built):
    for scan, _, stage1, _ in built:
        objects = {o.instance_id: o for o in scan.scene.objects}
        for sample in (s for s in stage1 if s.kind == S.KIND_LABELS):
            assert sample.prompt.startswith(f"{S.GRAPH_MARK}\n\n{S.WINDOW_MARK}")  # no context: frames only
            shown = {i for position in sample.frames for i in scan.views[position].visible}
            lines = [line.split() for line in sample.target_document.split("\n")]
            assert [label for label, _, _ in lines] == sorted(objects[i].label for i in shown)
            entries = [(label, float(x), float(y)) for label, x, y in lines]
            assert entries == sorted(entries)
            unmatched = [objects[i] for i in shown]  # each line is one shown object, its centre to 0.05 m
            for label, x, y in entries:
                match = next(o for o in unmatched if o.label == label and abs(o.box.center[0] - x) <= 0.051
                             and abs(o.box.center[1] - y) <= 0.051)
                unmatched.remove(match)
            for _, x, y in lines:
                assert re.fullmatch(r"-?\d+\.\d", x) and re.fullmatch(r"-?\d+\.\d", y) and "-0.0" not in (x, y)
        windows_with_objects = {s.frames for s in stage1 if s.kind == S.KIND_LABELS}
        assert windows_with_objects == {tuple(w) for w in S.windows(range(len(scan.views)))
                                        if any(scan.views[p].visible for p in w)}


def test_empty_windows_are_at_most_one_in_three(built):
    for _, _, stage1, _ in built:
        new = [s for s in stage1 if s.kind == S.KIND_NEW]
        assert 3 * sum(s.target == S.END for s in new) <= len(new)
    many_empty = [S.Sample("s", (i,), "p", S.END if i % 4 else "<ans> A </ans>" + S.END, S.KIND_NEW)
                  for i in range(12)]
    kept = S._drop_extra_empty(many_empty, np.random.default_rng(0))
    assert sum(s.target == S.END for s in kept) == 1 and len(kept) == 4
    assert [s.frames for s in kept] == sorted(s.frames for s in kept)


def test_cogmap_targets_map_the_window_objects(built):
    # A cog-map sample's map is the core's, around one of its window's objects (context + new) or the
    # room's global one, over exactly those objects (windows whose empty NEW sample was dropped are skipped).
    anchors = set()
    for scan, ids, stage1, _ in built:
        by_id = {ids[o.instance_id]: o for o in scan.scene.objects}
        window_objects = {}
        for sample, context, target, context_ids, new_ids in window_replay(scan, ids, stage1):
            names = [r.id for r in [*context, *target] if isinstance(r, _core.BoxText)]
            window_objects[sample.frames] = list(zip(names, context_ids + new_ids))
        seen = 0
        for sample in (s for s in stage1 if s.kind == S.KIND_COGMAP and s.frames in window_objects):
            graph = _core.SceneGraph()
            for name, oid in window_objects[sample.frames]:
                box = by_id[oid].box
                graph.add_object(_core.Object(name.split("#")[0], _core.Box3D(box.center, box.size, box.yaw), id=name))
            anchor = sample.prompt.rsplit(f"{S.COGMAP_MARK} ", 1)[1].rstrip("\n")
            if anchor == "room":
                graph.room_polygon = [tuple(p) for p in scan.scene.room.polygon]
                expected = _core.build_global_cogmap(graph)
            else:
                expected = _core.build_cogmap(graph, anchor, 0.5)
            assert sample.target_document == _core.format_cogmap(expected)
            seen += 1
            anchors.add("room" if anchor == "room" else "object")
        assert seen >= 1
    assert anchors == {"room", "object"}  # both kinds of map, for the LocalCogMap experiment


def test_question_object_ids_match_labels_at_word_starts_in_any_case():
    graph = _core.SceneGraph()
    for label in ("chair", "chair", "coffee_table", "tv"):
        graph.merge(_core.Detection(label, _core.Box3D((len(graph) * 3.0, 0, 0.5), (0.5, 0.5, 1.0)), 1.0, 0.0))
    assert S.question_object_ids(graph, "How many Chairs are near the coffee table?") == [
        "chair#1", "chair#2", "coffee_table#1"]
    assert S.question_object_ids(graph, "Is the armchair by the stvx?") == []


def test_local_object_ids_margin_and_yaw():
    graph = _core.SceneGraph()
    graph.add_object(_core.Object("table", _core.Box3D((0, 0, 0.5), (2.0, 0.4, 1.0), 0.5), id="table#1"))
    graph.add_object(_core.Object("lamp", _core.Box3D((5, 5, 0.5), (0.2, 0.2, 1.0)), id="lamp#1"))
    geometry = np.zeros((1, 2, 2, 7), np.float32)
    tip = np.array([np.cos(0.5), np.sin(0.5), 0.0]) * (1.0 + S.LOCAL_MARGIN_M - 0.05)  # along the heading
    geometry[0, 0, 0, :4] = [*(tip + [0, 0, 0.5]), 1.0]
    assert S.local_object_ids(graph, geometry) == ["table#1"]
    geometry[0, 0, 0, 3] = 0.0  # an invalid patch is no point
    assert S.local_object_ids(graph, geometry) == []
    geometry[0, 1, 1, :4] = [0.0, 0.2 + S.LOCAL_MARGIN_M + 0.05, 0.5, 1.0]  # across the heading: too far...
    assert S.local_object_ids(graph, geometry) == [] or np.cos(0.5) * 0.55 < 0.2 + S.LOCAL_MARGIN_M


# --- stage 2 --------------------------------------------------------------------------------------

def test_stage2_targets_parse_and_their_query_answers_the_question(built, questions):
    for scan, ids, _, stage2 in built:
        qs = questions[scan.scene.scene_id]
        assert len(stage2) == 2 * len(qs) > 0
        truth = ground_truth_graph(scan.scene)
        shown = [q.with_canonical_options() for q in qs]  # as Session.ask shows them
        for q, scaffold, direct in zip(shown, stage2[0::2], stage2[1::2]):
            assert scaffold.kind == S.KIND_SCAFFOLD and direct.kind == S.KIND_DIRECT and scaffold.frames == ()
            assert scaffold.prompt.endswith(f"{q.prompt}\n{S.SCAFFOLD_MARK}\n")
            assert direct.prompt.endswith(f"{q.prompt}\n{S.DIRECT_MARK}\n")
            records = parse_target(scaffold)
            query, fed, answer = records[-3:]
            [direct_answer] = parse_target(direct)
            copied = q.is_numeric and fed.answer is not None and fed.answer.value == pytest.approx(
                q.ground_truth, rel=S.COPY_TOLERANCE)
            assert answer == (_core.Answer(value=fed.answer.value, unit=direct_answer.unit) if copied else direct_answer)
            assert isinstance(fed, _core.EngineResult)  # the engine's result on the graph shown
            if fed.answer is not None:
                assert (fed.answer.value is not None) if q.is_numeric else fed.answer.choice in q.letters
            assert query.task == q.question_type and list(query.args) == engine_args(q)
            result = _core.run_query(truth, query)
            if q.is_numeric:
                assert direct_answer.value == pytest.approx(q.ground_truth)
                assert direct_answer.unit == S.ANSWER_UNITS[q.question_type]
                assert result.value == pytest.approx(q.ground_truth, abs=0.0051 if result.unit != "cm" else 0.51)
            else:
                assert answer.choice == direct_answer.choice == q.ground_truth
                assert q.letter_of(choice_text(q, result)) == q.ground_truth
            assert len(records) in (3, 4) and all(isinstance(r, _core.CogMap) for r in records[:-3])


def test_stage2_prompts_hold_the_objects_the_question_names_or_a_thinned_part(built, questions):
    whole = thinned = 0
    for scan, ids, _, stage2 in built:
        for q, sample, direct in zip(questions[scan.scene.scene_id], stage2[0::2], stage2[1::2]):
            graph_text = sample.prompt.split(f"{S.GRAPH_MARK}\n", 1)[1].split(f"\n{S.QUESTION_MARK}", 1)[0]
            boxes = [r.id for r in _core.parse_document(graph_text)]
            named = {i for i in ids.values() if re.search(rf"\b{i.split('#')[0].replace('_', ' ')}", q.prompt)}
            assert set(boxes) <= named
            assert direct.prompt.split(S.QUESTION_MARK)[0] == sample.prompt.split(S.QUESTION_MARK)[0]
            whole += set(boxes) == named
            thinned += set(boxes) < named
            maps = [r for r in parse_target(sample) if isinstance(r, _core.CogMap)]
            labels = Counter(b.split("#")[0] for b in boxes)
            if q.question_type == "room_size_estimation":
                assert maps[0].anchor == "room"
            elif labels[engine_args(q)[0]] == 1:
                assert maps[0].anchor.split("#")[0] == engine_args(q)[0]
            else:
                assert maps == []
    assert whole > 0 and thinned > 0, "some questions over the whole graph, some over a thinned one"


def test_results_on_the_whole_graph_are_the_truth(scans, questions):
    """The engine's `<res>` over the true graph is the benchmark's answer (numbers to the generator's
    rounding), so a model learns to trust a result over a graph that holds the objects."""
    for scan in scans:
        truth = ground_truth_graph(scan.scene)
        for q in questions[scan.scene.scene_id]:
            line = S.scaffold_lines(truth, q)[-2]
            fed = _core.parse_result(line)
            if q.is_numeric:
                assert fed.answer.value == pytest.approx(q.ground_truth, rel=0.01, abs=0.0051), line
            else:
                assert fed.answer.choice == q.ground_truth, line


def test_stage2_over_an_own_graph_shows_it_and_feeds_its_results(scans, questions):
    """With a model's own graph, part of the questions are asked over it: the prompt lists its named
    objects, and the `<res>` is the engine's on it (here a graph of one chair: most programs fail)."""
    scan = scans[0]
    qs = questions[scan.scene.scene_id]
    own = _core.SceneGraph()
    own.add_object(_core.Object("chair", _core.Box3D((1.0, 1.0, 0.4), (0.5, 0.5, 0.8), 0.0), first_seen=0.0))
    own.room_polygon = [(0.0, 0.0), (2.0, 0.0), (2.0, 3.0), (0.0, 3.0)]
    stage2 = S.stage2_samples(scan.scene.scene_id, ground_truth_graph(scan.scene), qs, np.random.default_rng(0), own)
    over_own = 0
    for q, scaffold in zip(qs, stage2[0::2]):
        if scaffold.prompt == S.stage2_prompt(S.subgraph(own, S.question_object_ids(own, q.prompt)), q.prompt,
                                              S.SCAFFOLD_MARK):
            over_own += 1
            fed = [r for r in parse_target(scaffold) if isinstance(r, _core.EngineResult)]
            expected = _core.parse_result(S.scaffold_lines(own, q)[-2])
            assert fed == [expected]
            if q.question_type == "room_size_estimation":
                assert expected.answer.value == pytest.approx(6.0) and expected.answer.unit == "m2"
    assert 0 < over_own < len(qs)


def test_numeric_answers_near_the_result_are_the_result():
    """Where `<res>` is right to COPY_TOLERANCE the target copies it, so that copying is one exact
    target rather than a near-miss the model must learn to perturb; a far result, and choices, keep
    the truth."""
    q = Question("q0", "s", "room_size_estimation", "What is the size of the room?", None, 20.0,
                 {"task": "room_size_estimation", "args": []})
    near = ProgramResult("20.80", 20.8, "m2", None, (), True)
    far = ProgramResult("23.00", 23.0, "m2", None, (), True)
    assert S.answer_line(q, near) == "<ans> 20.80 m2 </ans>"
    assert S.answer_line(q, far) == S.answer_line(q) == S.answer_line(q, None) == "<ans> 20.00 m2 </ans>"
    choice = Question("q1", "s", "route_planning", "Which way?", ("A. left", "B. right"), "B",
                      {"task": "route_planning", "args": []})
    assert S.answer_line(choice, ProgramResult("A", None, "", "left", (), True)) == "<ans> B </ans>"


def test_target_pieces_feed_the_result_line_and_generate_the_rest():
    target = "<q> object_counting chair </q>\n<res> 2.00 </res>\n<ans> 3.00 </ans>" + S.END
    assert S.target_pieces(target) == [("<q> object_counting chair </q>", True), ("\n<res> 2.00 </res>\n", False),
                                       ("<ans> 3.00 </ans>" + S.END, True)]
    assert S.target_pieces("<ans> B </ans>" + S.END) == [("<ans> B </ans>" + S.END, True)]


# --- determinism, bad input, files -------------------------------------------------------------------

def test_same_seed_same_samples(scans, questions, built):
    for scan, _, stage1, stage2 in built:
        again = scene_samples(scan, questions[scan.scene.scene_id], seed=5, tokens_per_frame=TOKENS)
        assert again == (stage1, stage2)
    other = [scene_samples(scan, questions[scan.scene.scene_id], seed=6, tokens_per_frame=TOKENS)[0] for scan in scans]
    assert other != [b[2] for b in built]  # the cog-map anchors are drawn from the seed


def test_bad_tokens_per_frame_and_records(scans, tmp_path):
    with pytest.raises(ValueError, match="tokens_per_frame"):
        S.stage1_samples(scans[0].scene, scans[0].views, scans[0].frames.geometry, {}, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="frames"):
        S.Sample.from_json({"scene_id": "s", "frames": [-1], "prompt": "", "target": S.END, "kind": "new"}, "x")
    with pytest.raises(ValueError, match="kind"):
        S.Sample.from_json({"scene_id": "s", "frames": [], "prompt": "", "target": S.END, "kind": "other"}, "x")
    with pytest.raises(ValueError, match="target"):
        S.Sample.from_json({"scene_id": "s", "frames": [], "prompt": "", "target": "no end", "kind": "new"}, "x")
    (tmp_path / "stage1.jsonl").write_text('{"scene_id": "s"\n')
    with pytest.raises(ValueError, match="stage1.jsonl:1"):
        load_samples(tmp_path, 1)


def test_prepare_writes_loadable_files(data_dir, tmp_path):
    manifest = prepare(data_dir, tmp_path / "a", seed=3, tokens_per_frame=TOKENS, progress=False)
    out = tmp_path / "a"
    stage1, stage2 = load_samples(out, 1), load_samples(out, 2)
    assert manifest["samples"]["stage1"] == len(stage1) and manifest["samples"]["stage2"] == len(stage2) > 0
    assert manifest["scenes"] == ["scene_000011", "scene_000012"]
    assert json.loads((out / "prepare.json").read_text()) == manifest
    for scene_id in manifest["scenes"]:
        scene = Scene.load(data_dir / scene_id)
        with np.load(out / "frames" / f"{scene_id}.npz") as npz:
            assert list(npz["t"]) == [scene.frames[i].t for i in npz["frame_index"]]
    count = 0
    for sample, frames in iter_samples(out, 1):
        assert len(frames) == len(sample.frames) >= 1
        np.testing.assert_array_equal(frames.pose, load_frames(out, sample.scene_id).pose[list(sample.frames)])
        count += 1
    assert count == len(stage1)
    assert all(len(frames) == 0 for _, frames in iter_samples(out, 2))
    corpus = (out / "corpus.txt").read_text()
    assert corpus == "".join(s.text + "\n" for s in stage1 + stage2)
    assert "graphs" not in manifest
    # Two worker processes give the same files.
    prepare(data_dir, tmp_path / "b", seed=3, tokens_per_frame=TOKENS, workers=2, progress=False)
    for name in ("stage1.jsonl", "stage2.jsonl", "corpus.txt", "prepare.json"):
        assert (out / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_prepare_over_own_graphs_needs_one_per_scan(data_dir, scans, tmp_path):
    graphs = tmp_path / "graphs"
    graphs.mkdir()
    (graphs / "scene_000011.json").write_text(ground_truth_graph(scans[0].scene).to_json())
    with pytest.raises(FileNotFoundError, match="graphs: no graph of scene_000012"):
        prepare(data_dir, tmp_path / "a", seed=3, tokens_per_frame=TOKENS, progress=False, graphs=graphs)
    (graphs / "scene_000012.json").write_text("{}")
    with pytest.raises(ValueError, match="scene_000012.json: not a scene graph"):
        prepare(data_dir, tmp_path / "a", seed=3, tokens_per_frame=TOKENS, progress=False, graphs=graphs)
    (graphs / "scene_000012.json").write_text(_core.SceneGraph().to_json())
    manifest = prepare(data_dir, tmp_path / "a", seed=3, tokens_per_frame=TOKENS, progress=False, graphs=graphs)
    assert manifest["graphs"] == str(graphs) and len(manifest["graphs_digest"]) == 12
    plain = prepare(data_dir, tmp_path / "b", seed=3, tokens_per_frame=TOKENS, progress=False)
    assert load_samples(tmp_path / "a", 1) == load_samples(tmp_path / "b", 1)  # stage 1 never reads them
    assert load_samples(tmp_path / "a", 2) != load_samples(tmp_path / "b", 2)
    assert plain["samples"]["stage2"] == manifest["samples"]["stage2"]
