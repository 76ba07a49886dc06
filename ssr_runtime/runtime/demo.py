"""`ssr demo`: the shipped sample scene streamed through the shipped model, end to end.

Prints the final scene graph, a LocalCogMap (text, and a PNG with the boxes), answers to one question
per benchmark task beside the ground truth, and the per-stage latency table; writes them to --out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ssr_runtime import _core
from ssr_runtime.files import atomic_open, write_json_atomic, write_text_atomic


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="stream the sample scene through the shipped model and ask questions",
                              description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="an exported model folder (default: the shipped one)")
    p.add_argument("--scene", type=Path, help="a scene folder (default: the shipped sample scene)")
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="folder for demo.json and cogmap.png")
    p.add_argument("--threads", type=int, default=1, help="threads per backend (Session's default)")
    p.add_argument("--lm-file", help="the language-model file of the model folder: a GGUF (default: Q8_0) "
                                     "or lm.onnx (ONNX Runtime; from `ssr export --onnx-lm`)")
    p.add_argument("--grounding", action=argparse.BooleanOptionalAction, default=None,
                   help="ground the graph in the encoder's heads (runtime.grounding); default: when the model "
                        "has them (grounding.onnx); --no-grounding: the language model's graph as written")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from ssr_runtime.data import sample_scene_path
    from ssr_runtime.data.readers import iter_scene_frames
    from ssr_runtime.data.scene import Scene
    from ssr_runtime.eval.questions import generate_questions
    from ssr_runtime.runtime.session import Session

    started = time.perf_counter()
    scene_dir = args.scene or sample_scene_path()
    scene = Scene.load(scene_dir)
    session = Session(args.model, lm_file=args.lm_file, threads=args.threads, grounding=args.grounding)
    print(f"model: {session.model_folder}  scene: {scene.scene_id} ({len(scene.frames)} frames)")
    keyframes = session.push_frames(iter_scene_frames(scene_dir, with_instance=False), progress=True)
    graph = session.graph
    print(f"\n{keyframes} keyframes → {len(graph)} objects, {len(graph.triplets)} triplets "
          f"({session.stats.bad_lines} of {session.stats.lines} output lines rejected)\n")
    print(graph_table(graph))

    anchor = graph.objects[0].id if len(graph) else "room"
    cogmap = session.cogmap(anchor)
    print(f"\nLocalCogMap around {anchor} (+y up):\n{cogmap.render()}\n{_core.format_cogmap(cogmap)}")
    args.out.mkdir(parents=True, exist_ok=True)
    png = plot_cogmap(graph, cogmap, args.out / "cogmap.png")

    rows = []
    for question in one_per_task(generate_questions([scene], seed=0)):
        answer = session.ask(question.question, question.options)
        rows.append({"task": question.question_type, "question": question.question, "answer": answer.text,
                     "truth": str(question.ground_truth), "source": answer.source,
                     "latency_ms": round(answer.latency_s * 1e3, 1)})
    print("\n" + markdown_table(["task", "answer", "truth", "source", "latency_ms"], rows))
    latency = session.latency.summary()
    print("\n" + latency_table(latency))
    total = time.perf_counter() - started
    write_json_atomic(args.out / "demo.json", {"scene": scene.scene_id, "graph": json.loads(graph.to_json()),
                                               "answers": rows, "latency": latency, "seconds": total})
    write_text_atomic(args.out / "graph.txt", graph_table(graph) + "\n")
    print(f"\nwrote {args.out / 'demo.json'}, {png}; {total:.1f} s in all")
    return 0


def one_per_task(questions: list) -> list:
    """The first question of each task, in the benchmark's task order."""
    firsts: dict[str, object] = {}
    for q in questions:
        firsts.setdefault(q.question_type, q)
    return list(firsts.values())


def markdown_table(columns: list[str], rows: list[dict]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def graph_table(graph: _core.SceneGraph) -> str:
    rows = [{"id": o.id, "centre (m)": " ".join(f"{v:.2f}" for v in o.box.center),
             "size (m)": " ".join(f"{v:.2f}" for v in o.box.size), "yaw": f"{o.box.yaw:.2f}",
             "first seen (s)": f"{o.first_seen:.2f}"} for o in graph.objects]
    return markdown_table(["id", "centre (m)", "size (m)", "yaw", "first seen (s)"], rows)


def latency_table(summary: dict) -> str:
    rows = [{"stage": stage, "count": v["count"], "p50 ms": f"{v['p50_ms']:.2f}", "p95 ms": f"{v['p95_ms']:.2f}",
             "tokens/s": f"{v['tokens_per_s']:.0f}" if "tokens_per_s" in v else ""} for stage, v in summary.items()]
    return markdown_table(["stage", "count", "p50 ms", "p95 ms", "tokens/s"], rows)


def plot_cogmap(graph: _core.SceneGraph, cogmap: _core.CogMap, path: Path) -> Path:
    """The cog map's 10×10 grid with its objects' cells, over the objects' top-down boxes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 6))
    for obj in graph.objects:
        corners = np.asarray(obj.box.corners())[:4, :2]
        ax.fill(corners[:, 0], corners[:, 1], alpha=0.25)
        ax.text(*obj.box.center[:2], obj.id, fontsize=7, ha="center")
    if graph.room_polygon:
        outline = np.array(graph.room_polygon + graph.room_polygon[:1])
        ax.plot(outline[:, 0], outline[:, 1], "k-", lw=1)
    cx, cy = cogmap.at if cogmap.at is not None else graph.object(cogmap.anchor).box.center[:2]
    half = 5 * cogmap.res
    for k in range(11):
        ax.plot([cx - half + k * cogmap.res] * 2, [cy - half, cy + half], color="0.8", lw=0.5)
        ax.plot([cx - half, cx + half], [cy - half + k * cogmap.res] * 2, color="0.8", lw=0.5)
    ax.set_title(f"LocalCogMap around {cogmap.anchor} (res {cogmap.res} m)")
    ax.set_aspect("equal")
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    return path
