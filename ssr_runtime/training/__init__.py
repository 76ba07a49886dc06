"""Training data for the SSR model, without torch: the texts and encoder inputs of docs/MODEL.md.

- `samples`: keyframes, windows, object ids, and the stage-1 / stage-2 texts of one scan.
- `dataset`: `prepare` (a data folder of scans → frames .npz + samples .jsonl + corpus.txt) and the
  loader that reads them back.
"""
