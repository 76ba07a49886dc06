"""Streaming cost of a Session (shipped model): query latency against stream length, and resident memory
over a long stream.

The stream: the sample scene's frames (ssr_runtime/data/sample, 40 posed RGB-D frames at 320×240, every
one a keyframe), read once into memory and cycled — frame i is sample frame i mod 40 with
t = t_(i mod 40) + (i div 40) × period (period = the sample's span plus one frame spacing), so t rises
strictly and the stream is as long as asked. The camera walks the same loop again and again: the
stream grows while the scene does not, which is the situation the structured memory is built for.

1. Memory (--frames, default 10,000): a fresh Session reads the stream; resident memory (VmRSS from
   /proc/self/status) after the model loads, every --every frames and at the end, with the keyframes,
   windows read, and the graph's objects and triplets.
2. Query latency at --keyframes (default 30, 100, 300 keyframes read), in a second Session:
   - structured: `session.ask(q)` for --questions fixed questions, asked in rotation --reps times each
     (the session's LM cache keeps the prefix a prompt shares with the previous one, as in use: the
     chair questions share the chair boxes, the room question none), median seconds.
     The session is flushed at each point, so the graph covers every keyframe so far.
   - all visual tokens: what a model that keeps the raw visual stream pays per query: a prompt of every
     keyframe's encoder output so far (tokens_per_frame rows each, recorded from the same session's
     encoder) and the same question text, prefilled into a LlamaCppLM on the same GGUF from an empty
     cache, then greedy decoding of as many tokens as the structured answer took (no stop token).
     Median of --baseline-reps per question.
   - all visual tokens, cached: the same, with the visual tokens already in the KV cache (prefilled
     once, untimed): the question's prefill and the decoding alone — the baseline's best case.
   300 keyframes × 17 tokens exceed the model's 2048 positions: the baseline LM is opened with a
   larger n_ctx. Beyond the trained context its output is meaningless; only its time is measured.

Threads: one by default. On a 2-core machine shared with other work, llama.cpp on 2 threads ran this
stream 50 times slower than on 1 (0.7 against 36 frames/s over 120 frames, minutes apart): its threads
wait on each other by spinning, and a spinning thread descheduled by the other load stalls the batch.

Output: tables on stdout, bench_stream.json and bench_stream.png (latency curves, RSS over frames)
in --out.

Usage (from the checkout after scripts/dev-build.sh, with the runtime extra):
    PYTHONPATH=. python benchmarks/bench_stream.py [--frames 10000] [--keyframes 30 100 300] [--out DIR]
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from ssr_runtime.data import sample_scene_path
from ssr_runtime.data.readers import RGBDFrame, iter_scene_frames
from ssr_runtime.eval.questions import ABS_DISTANCE, COUNTING, ROOM_SIZE, SIZE
from ssr_runtime.eval.records import vsi_prompt
from ssr_runtime.runtime.llama_lm import LlamaCppLM
from ssr_runtime.runtime.session import Session
from ssr_runtime.training.samples import QUESTION_MARK, SCAFFOLD_MARK, WINDOW_MARK, stage2_prompt

# Objects the sample scene holds (ssr_runtime/data/sample/scene.json). The shipped model finds the scene's
# chairs (11 of them) and little else, so the questions name chairs: their prompts carry those boxes.
QUESTIONS = (COUNTING.format(category="chair"),
             SIZE.format(category="chair"),
             ABS_DISTANCE.format(object1="chair", object2="table"),
             ROOM_SIZE)


def rss_mib() -> float:
    """Resident memory of this process (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmRSS line")


def cycled_frames(frames: list[RGBDFrame], count: int):
    """`count` frames cycling `frames` with strictly increasing t (module docstring)."""
    times = [f.t for f in frames]
    period = times[-1] - times[0] + float(np.median(np.diff(times)))
    for i in range(count):
        cycle, frame = divmod(i, len(frames))
        f = frames[frame]
        yield RGBDFrame(f.rgb, f.depth, f.K, f.T_wc, f.t + cycle * period)


class RecordingEncoder:
    """The session's encoder, keeping every output's rows [frames × tokens_per_frame, hidden]."""

    def __init__(self, encoder):
        self.encoder, self.rows = encoder, []

    def encode(self, pixels, geometry, pose):
        tokens = self.encoder.encode(pixels, geometry, pose)
        self.rows.append(np.ascontiguousarray(tokens.reshape(-1, tokens.shape[-1]), dtype=np.float32))
        return tokens

    def visual(self) -> np.ndarray:
        return np.concatenate(self.rows)


# --- memory ----------------------------------------------------------------------------------------

def memory_run(frames: list[RGBDFrame], count: int, every: int, threads: int) -> dict:
    from tqdm import tqdm

    session = Session(threads=threads)
    rows = [memory_row(session, 0.0)]
    start = time.perf_counter()
    for i, frame in enumerate(tqdm(cycled_frames(frames, count), total=count, desc="memory run", unit="frame")):
        session.push_frame(frame.rgb, frame.depth, frame.K, frame.T_wc, frame.t)
        if (i + 1) % every == 0 and i + 1 < count:
            rows.append(memory_row(session, time.perf_counter() - start))
    session.flush()
    rows.append(memory_row(session, time.perf_counter() - start))
    return {"rows": rows, "seconds": time.perf_counter() - start,
            "latency_summary": session.latency.summary()}


def memory_row(session: Session, elapsed: float) -> dict:
    graph = session.graph
    return {"frames": session.frames_seen, "keyframes": session.keyframes, "windows": session.stats.windows,
            "objects": len(graph), "triplets": len(graph.triplets), "rss_mib": rss_mib(), "elapsed_s": elapsed}


def print_memory(result: dict) -> None:
    print(f"{'frames':>7} {'keyframes':>9} {'windows':>7} {'objects':>7} {'triplets':>8} {'RSS MiB':>8} "
          f"{'elapsed s':>9}")
    for r in result["rows"]:
        print(f"{r['frames']:>7} {r['keyframes']:>9} {r['windows']:>7} {r['objects']:>7} {r['triplets']:>8} "
              f"{r['rss_mib']:>8.1f} {r['elapsed_s']:>9.1f}")
    first, last = result["rows"][0], result["rows"][-1]
    second = result["rows"][1] if len(result["rows"]) > 2 else last
    print(f"RSS: {first['rss_mib']:.1f} MiB after model load, {second['rss_mib']:.1f} MiB at frame "
          f"{second['frames']}, {last['rss_mib']:.1f} MiB at the end; "
          f"{last['frames'] / result['seconds']:.1f} frames/s over {result['seconds']:.0f} s")


# --- latency ---------------------------------------------------------------------------------------

def latency_run(frames: list[RGBDFrame], checkpoints: list[int], questions: tuple[str, ...], reps: int,
                baseline_reps: int, threads: int) -> list[dict]:
    session = Session(threads=threads)
    recorder = RecordingEncoder(session.encoder)
    session.encoder = recorder
    tokens_per_frame = session.config.tokens_per_frame
    longest = max(checkpoints) * tokens_per_frame + max(question_tokens(session, q) for q in questions) + 256
    baseline = LlamaCppLM(session.lm.path, n_ctx=longest, threads=threads)
    stream = cycled_frames(frames, 1 << 40)
    results = []
    for target in sorted(checkpoints):
        while session.keyframes < target:
            frame = next(stream)
            session.push_frame(frame.rgb, frame.depth, frame.K, frame.T_wc, frame.t)
        session.flush()
        visual = recorder.visual()
        assert len(visual) == session.keyframes * tokens_per_frame
        structured = structured_latency(session, questions, reps)
        point = {"keyframes": session.keyframes, "frames": session.frames_seen, "objects": len(session.graph),
                 "visual_tokens": len(visual), "questions": []}
        for question, measured in zip(questions, structured):
            cold, cached = baseline_latency(baseline, session.tokenizer, visual, question, measured["new_tokens"],
                                            baseline_reps)
            point["questions"].append({"question": question, "structured": measured, "all_visual": cold,
                                       "all_visual_cached": cached})
        for key in ("structured", "all_visual", "all_visual_cached"):
            point[f"{key}_median_s"] = statistics.median(q[key]["median_s"] for q in point["questions"])
        results.append(point)
        print_point(point)
    baseline.close()
    return results


def question_tokens(session: Session, question: str) -> int:
    return len(session.tokenizer.encode(baseline_question_text(question)).ids)


def baseline_question_text(question: str) -> str:
    return f"\n{QUESTION_MARK}\n{vsi_prompt(question)}\n{SCAFFOLD_MARK}\n"


def structured_latency(session: Session, questions: tuple[str, ...], reps: int) -> list[dict]:
    """Per question: median ask() seconds over `reps` rounds (questions in rotation), the prompt's tokens,
    the median tokens generated and the answer's source."""
    seconds = {q: [] for q in questions}
    new_tokens = {q: [] for q in questions}
    answers = {}
    for _ in range(reps):
        for question in questions:
            answer = session.ask(question)
            seconds[question].append(answer.latency_s)
            # ask() decodes twice: the scaffold, then the answer after the engine's <res> line
            new_tokens[question].append(sum(n for n, _ in list(session.latency.decode_tokens)[-2:]))
            answers[question] = answer
    graph = session.graph
    return [{"median_s": statistics.median(seconds[q]), "best_s": min(seconds[q]), "runs_s": seconds[q],
             "prompt_tokens": len(session.tokenizer.encode(stage2_prompt(graph, vsi_prompt(q), SCAFFOLD_MARK)).ids),
             "new_tokens": int(statistics.median(new_tokens[q])), "answer": answers[q].text,
             "source": answers[q].source} for q in questions]


def baseline_latency(lm: LlamaCppLM, tokenizer, visual: np.ndarray, question: str, new_tokens: int,
                     reps: int) -> tuple[dict, dict]:
    """(from an empty cache, with the visual tokens cached): median seconds of prefill + `new_tokens`
    greedy tokens, and the prompt's length."""
    lead = tokenizer.encode(WINDOW_MARK).ids
    tail = tokenizer.encode(baseline_question_text(question)).ids
    prompt_tokens = len(lead) + len(visual) + len(tail)
    cold = []
    for _ in range(reps):
        lm.reset()
        start = time.perf_counter()
        lm.prefill([lead, visual, tail])
        lm.generate(new_tokens, stop=[])
        cold.append(time.perf_counter() - start)
    lm.reset()
    lm.prefill([lead, visual])
    visual_end = lm.position
    cached = []
    for _ in range(reps):
        lm.truncate(visual_end)
        start = time.perf_counter()
        lm.prefill([tail])
        lm.generate(new_tokens, stop=[])
        cached.append(time.perf_counter() - start)
    return ({"median_s": statistics.median(cold), "best_s": min(cold), "runs_s": cold, "prompt_tokens": prompt_tokens},
            {"median_s": statistics.median(cached), "best_s": min(cached), "runs_s": cached, "prompt_tokens": len(tail),
             "cached_tokens": visual_end})


def print_point(point: dict) -> None:
    print(f"\n{point['keyframes']} keyframes ({point['frames']} frames, {point['objects']} objects, "
          f"{point['visual_tokens']} visual tokens)")
    print(f"{'question':<34} {'structured ms':>13} {'prompt':>6} {'new':>4} {'all-visual ms':>13} {'prompt':>6} "
          f"{'ratio':>6} {'cached ms':>9} {'ratio':>6}")
    for q in point["questions"]:
        s, a, c = q["structured"], q["all_visual"], q["all_visual_cached"]
        print(f"{q['question'][:34]:<34} {s['median_s'] * 1e3:>13.1f} {s['prompt_tokens']:>6} {s['new_tokens']:>4} "
              f"{a['median_s'] * 1e3:>13.1f} {a['prompt_tokens']:>6} {a['median_s'] / s['median_s']:>6.1f} "
              f"{c['median_s'] * 1e3:>9.1f} {c['median_s'] / s['median_s']:>6.1f}")


def print_latency(points: list[dict]) -> None:
    print(f"\n{'keyframes':>9} {'visual tok':>10} {'objects':>7} {'structured ms':>13} {'all-visual ms':>13} "
          f"{'ratio':>6} {'cached ms':>9} {'ratio':>6}   (medians over the questions)")
    for p in points:
        s, a, c = p["structured_median_s"], p["all_visual_median_s"], p["all_visual_cached_median_s"]
        print(f"{p['keyframes']:>9} {p['visual_tokens']:>10} {p['objects']:>7} {s * 1e3:>13.1f} {a * 1e3:>13.1f} "
              f"{a / s:>6.1f} {c * 1e3:>9.1f} {c / s:>6.1f}")


# --- output ----------------------------------------------------------------------------------------

def plot(path: Path, points: list[dict], memory: dict | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if memory else 1, figsize=(12 if memory else 6, 4.5), squeeze=False)
    ax = axes[0][0]
    if points:
        keyframes = [p["keyframes"] for p in points]
        for key, label in (("structured", "structured memory (Session.ask)"),
                           ("all_visual", "all visual tokens, prefilled per query"),
                           ("all_visual_cached", "all visual tokens, KV-cached")):
            ax.plot(keyframes, [p[f"{key}_median_s"] * 1e3 for p in points], marker="o", label=label)
        ax.set_xlabel("keyframes read")
        ax.set_ylabel("query latency, ms (median over questions)")
        ax.set_title("Query latency against stream length")
        ax.legend()
        ax.grid(alpha=0.3)
    if memory:
        ax = axes[0][1]
        rows = memory["rows"]
        ax.plot([r["frames"] for r in rows], [r["rss_mib"] for r in rows], marker="o", color="tab:red")
        ax.set_xlabel("frames streamed")
        ax.set_ylabel("resident memory (VmRSS), MiB")
        ax.set_ylim(0, max(r["rss_mib"] for r in rows) * 1.2)
        ax.set_title("Resident memory over the stream")
        ax.grid(alpha=0.3)
        twin = ax.twinx()
        twin.plot([r["frames"] for r in rows], [r["objects"] for r in rows], color="tab:gray", linestyle="--",
                  label="graph objects")
        twin.set_ylabel("graph objects")
        twin.set_ylim(0, max(max(r["objects"] for r in rows) * 1.2, 1))
        twin.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10000, help="memory run length (0: skip it)")
    parser.add_argument("--every", type=int, default=1000, help="frames between memory samples")
    parser.add_argument("--keyframes", type=int, nargs="*", default=[30, 100, 300],
                        help="keyframe counts to time queries at (none: skip the latency run)")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS), choices=range(1, len(QUESTIONS) + 1))
    parser.add_argument("--reps", type=int, default=5, help="asks per question at each point")
    parser.add_argument("--baseline-reps", type=int, default=3, help="baseline queries per question at each point")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads of the encoder and the LM (1: see the module docstring)")
    parser.add_argument("--out", type=Path, default=Path("out/bench_stream"))
    args = parser.parse_args()
    if args.frames < 0 or args.every < 1 or any(k < 1 for k in args.keyframes):
        parser.error("--frames >= 0, --every >= 1 and --keyframes >= 1 expected")

    frames = list(iter_scene_frames(sample_scene_path(), with_instance=False))
    print(f"{platform.processor() or platform.machine()}, {args.threads} threads; shipped model; stream: the "
          f"sample scene's {len(frames)} frames cycled with increasing t")
    started = time.perf_counter()
    memory = None
    if args.frames:
        print(f"\n== Memory over a {args.frames}-frame stream ==")
        memory = memory_run(frames, args.frames, args.every, args.threads)
        print_memory(memory)
    points = []
    if args.keyframes:
        print("\n== Query latency against stream length ==")
        points = latency_run(frames, args.keyframes, QUESTIONS[:args.questions], args.reps, args.baseline_reps,
                             args.threads)
        print_latency(points)
    wall = time.perf_counter() - started

    args.out.mkdir(parents=True, exist_ok=True)
    record = {"machine": platform.processor() or platform.machine(), "threads": args.threads,
              "stream": f"sample scene ({len(frames)} frames) cycled, t strictly increasing",
              "memory": memory, "latency": points, "wall_s": wall,
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    (args.out / "bench_stream.json").write_text(json.dumps(record, indent=1))
    plot(args.out / "bench_stream.png", points, memory)
    print(f"\nwall {wall:.0f} s; wrote {args.out / 'bench_stream.json'} and {args.out / 'bench_stream.png'}")


if __name__ == "__main__":
    main()
