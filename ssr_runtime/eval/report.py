"""Human-readable views of a results.json: a markdown table and a bar chart."""

from __future__ import annotations

from pathlib import Path

from ssr_runtime.eval.metrics import TASK_TITLES


def markdown(results: dict) -> str:
    """Per-task and per-raw-key scores (percent), strict (VSI-Bench's parser) beside lenient."""
    lines = [f"### {results['method']}", "", "| task | n | strict | lenient |", "|---|---:|---:|---:|"]
    for task, row in results["tasks"].items():
        lines.append(f"| {TASK_TITLES[task]} | {row['n']} | {row['strict']:.1f} | {row['lenient']:.1f} |")
    overall = results["overall"]
    lines.append(f"| **Overall** | {overall['n']} | **{overall['strict']:.1f}** | **{overall['lenient']:.1f}** |")
    lines += ["", "| raw key | n | strict | lenient |", "|---|---:|---:|---:|"]
    for key, row in results["raw_keys"].items():
        lines.append(f"| {key} | {row['n']} | {row['strict']:.1f} | {row['lenient']:.1f} |")
    return "\n".join(lines) + "\n"


def bar_chart(results: dict, path: Path) -> None:
    """Grouped bars per task (strict, lenient) and overall, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [TASK_TITLES[t] for t in results["tasks"]] + ["Overall"]
    rows = [*results["tasks"].values(), results["overall"]]
    positions = range(len(names))
    fig, ax = plt.subplots(figsize=(1.1 * len(names) + 2, 4))
    try:
        for offset, mode in ((-0.2, "strict"), (0.2, "lenient")):
            ax.bar([p + offset for p in positions], [r[mode] for r in rows], width=0.4, label=mode)
        ax.set_xticks(list(positions), names, rotation=30, ha="right")
        ax.set_ylim(0, 100)
        ax.set_ylabel("score (%)")
        ax.set_title(f"{results['method']}: VSI-Bench tasks")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
