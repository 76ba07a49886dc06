"""VSI-Bench-style evaluation over ground-truth scenes (docs/BENCHMARK.md).

- `questions`: question generation from a `Scene` (rules, margins, templates); `records`: the
  question record; `benchmark`: questions.jsonl files; `geometry`: the exact box geometry behind
  the answers, independent of the C++ core.
- `metrics`: VSI-Bench's parsing, MRA, accuracy and aggregation.
- `harness`: the `Method` interface, the method registry (`methods/<name>.py`) and the runner
  that writes predictions and results; `report`: the markdown table and the bar chart.
"""
