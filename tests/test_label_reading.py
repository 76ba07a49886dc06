"""benchmarks/label_reading.py: scan-level label sets from patch labels and patch probabilities, their
recall and precision, and a run over a generated scan with the shipped checkpoint's patch head, where a
graph of the scan's own objects holds every label shown."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from ssr_runtime import _core  # noqa: E402
from ssr_runtime.data.categories import LABELS  # noqa: E402
from ssr_runtime.data.scene import Scene  # noqa: E402
from ssr_runtime.eval.benchmark import scene_folders  # noqa: E402
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import label_reading as lr  # noqa: E402

BED, CHAIR = LABELS.index("bed") + 1, LABELS.index("chair") + 1


def test_a_label_counts_from_min_patches_shown_or_seen():
    patch_labels = np.zeros((2, 8, 8), np.uint8)
    patch_labels[0, 0, :3] = BED
    patch_labels[1, 5, 5] = CHAIR
    assert lr.labels_shown(patch_labels, min_patches=2) == {"bed"}
    assert lr.labels_shown(patch_labels, min_patches=1) == {"bed", "chair"}
    probabilities = np.zeros((2, 64, len(LABELS) + 1))
    probabilities[..., 0] = 1.0
    probabilities[0, :2, CHAIR] = 0.6
    probabilities[1, 0, BED] = 0.9
    assert lr.labels_seen(probabilities, threshold=0.5, min_patches=2) == {"chair"}
    assert lr.labels_seen(probabilities, threshold=0.7, min_patches=1) == {"bed"}


def test_set_counts_give_recall_and_precision_per_label_and_over_all():
    counts = lr.SetCounts()
    counts.add({"bed", "chair"}, {"bed", "sofa"})
    counts.add({"bed"}, {"bed"})
    assert counts.recall("bed") == 1.0 and counts.recall("sofa") == 0.0
    assert counts.precision("chair") == 0.0
    assert counts.recall() == pytest.approx(2 / 3) and counts.precision() == pytest.approx(2 / 3)
    assert np.isnan(counts.recall("lamp"))


@pytest.fixture(scope="module")
def scans(generated_scans):
    return generated_scans(scenes=1, seed=11, frames=12, width=96, height=72)


def test_the_shipped_patch_head_against_a_graph_of_the_true_objects(scans, tmp_path, capsys):
    graphs = tmp_path / "truth"
    graphs.mkdir()
    for scene_id, folder in scene_folders(scans).items():
        graph = _core.SceneGraph()
        for o in Scene.load(folder).objects:
            graph.add_object(_core.Object(o.label, _core.Box3D(o.box.center, o.box.size, o.box.yaw), id=o.id))
        graph.save(graphs / f"{scene_id}.json")
    shown_in, counts = lr.score(scans, DEFAULT_CHECKPOINT, {"truth": graphs}, 0.5, 2, progress=False)
    assert sum(shown_in.values()) > 0
    assert counts["truth"].recall() == 1.0
    table = lr.rows(shown_in, counts)
    assert list(table)[-1] == lr.ALL and 0.0 <= table[lr.ALL]["encoder recall"] <= 1.0
    assert lr.main(["--data", str(scans), "--checkpoint", str(DEFAULT_CHECKPOINT), f"truth={graphs}"]) == 0
    assert "| all labels |" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        lr.main(["--data", str(scans), "--checkpoint", str(DEFAULT_CHECKPOINT), f"none={tmp_path}"])
    assert "no graph" in capsys.readouterr().err
