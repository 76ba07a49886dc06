#!/usr/bin/env bash
# Issue #4's fusion experiment end to end: `add` (2D + 3D) against `2d` by the same recipe, data and
# seeds, the two fusions side by side at one thread each (docs/MODEL.md, "Stage 1 in bfloat16").
#
#   scripts/add_vs_2d.sh OUT                 # stage-2 seed 0
#   SEEDS="0 1 2" scripts/add_vs_2d.sh OUT   # more stage-2 draws from the same two stage-1 runs
#   GROUNDED=1 scripts/add_vs_2d.sh OUT      # round 2 over grounded graphs, scored grounded (below)
#
# Scans are generated into OUT/scans/{train,bench,val} unless TRAIN, BENCH, VAL name existing folders.
# Per fusion F and stage-2 seed S it writes OUT/F/stage1, OUT/F/s2a-seedS (round 1), its export and
# graphs of the training scans (`ssr read`), OUT/F/s2b-seedS (round 2, over those graphs), its Q8_0
# export and the scores OUT/F/{bench,val}-seedS (`ssr eval --out`); then prints `ssr compare 2d add`
# for each question set and seed. Without GROUNDED=1 graphs and scores are the language model's own
# (`ssr read --no-grounding`, `--variant plain`: the shipped recipe). With GROUNDED=1 the graphs are read
# with `ssr read --grounding`, and
# round 2, its export and the scores (`--variant grounded`) are written under names ending in
# `-grounded`, beside the plain ones (stage 1 and round 1 are shared; docs/MODEL.md, "Grounding").
# Rerunning resumes: finished steps are skipped, a stopped training continues from its last save.
# Knobs (environment): STEPS ALIGN_STEPS STAGE2_STEPS PRECISION SCENES FRAMES SIZE SEEDS GROUNDED SSR
# (the command, default .venv/bin/ssr).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
OUT=$(realpath -m "$1")
cd "$(dirname "$0")/.."
SSR=${SSR:-$PWD/.venv/bin/ssr}
STEPS=${STEPS:-3600} ALIGN_STEPS=${ALIGN_STEPS:-300} STAGE2_STEPS=${STAGE2_STEPS:-600}
PRECISION=${PRECISION:-bf16} SCENES=${SCENES:-250} FRAMES=${FRAMES:-60} SIZE=${SIZE:-320x240}
SEEDS=${SEEDS:-0}
TAG="" READ_FLAGS=(--no-grounding) EVAL_FLAGS=(--variant plain)
if [ "${GROUNDED:-0}" = 1 ]; then TAG=-grounded READ_FLAGS=(--grounding) EVAL_FLAGS=(--variant grounded); fi
TRAIN=${TRAIN:-$OUT/scans/train} BENCH=${BENCH:-$OUT/scans/bench} VAL=${VAL:-$OUT/scans/val}
FUSIONS=(2d add)
mkdir -p "$OUT"

scans() {  # FOLDER SCENES SEED: generated once (the same seeds as the shipped model's data)
  [ -f "$1/index.json" ] || "$SSR" data gen --out "$1" --scenes "$2" --frames "$FRAMES" --size "$SIZE" \
    --seed "$3" --workers 2 --quiet
}

trained() {  # RUN_FOLDER: a finished training (its checkpoint, and the marker `train` leaves on success)
  [ -f "$1/checkpoint/ssr_config.json" ] && [ -f "$1/.done" ]
}

train() {  # RUN_FOLDER ARGS...: `ssr train` at one thread, unless finished; resumes when stopped
  local run=$1; shift
  trained "$run" && return 0
  "$SSR" train --out "$run" --data "$TRAIN" --threads 1 --precision "$PRECISION" --quiet "$@"
  touch "$run/.done"
}

stage1() {  # FUSION
  train "$OUT/$1/stage1" --stage 1 --config small --fusion "$1" --steps "$STEPS" --align-steps "$ALIGN_STEPS" --seed 0
}

stage2() {  # FUSION SEED: the shipped stage-2 recipe (model card), then the scores
  local run=$OUT/$1 seed=$2
  train "$run/s2a-seed$seed" --stage 2 --init "$run/stage1" --steps "$STAGE2_STEPS" --seed "$seed"
  [ -f "$run/s2a-seed$seed-export/manifest.json" ] || "$SSR" export --checkpoint "$run/s2a-seed$seed/checkpoint" \
    --out "$run/s2a-seed$seed-export" --quant q8_0
  local graphs=$run/graphs-seed$seed$TAG round2=$run/s2b-seed$seed$TAG
  [ -f "$graphs/.done" ] || { "$SSR" read "${READ_FLAGS[@]}" --data "$TRAIN" --out "$graphs" \
    --model "$run/s2a-seed$seed-export" && touch "$graphs/.done"; }
  train "$round2" --stage 2 --init "$run/s2a-seed$seed" --graphs "$graphs" --steps "$STAGE2_STEPS" --seed "$seed"
  [ -f "$round2-export/manifest.json" ] || "$SSR" export --checkpoint "$round2/checkpoint" --out "$round2-export" \
    --quant q8_0
  local set
  for set in bench val; do
    local data=$BENCH; [ "$set" = val ] && data=$VAL
    [ -f "$run/$set-seed$seed$TAG/predictions.jsonl" ] || "$SSR" eval --data "$data" --method runtime \
      "${EVAL_FLAGS[@]}" --checkpoint "$round2-export" --out "$run/$set-seed$seed$TAG" > /dev/null
  done
}

fusion() {  # FUSION: stage 1, then every stage-2 seed; its log in OUT/FUSION.log
  local seed
  { stage1 "$1"; for seed in $SEEDS; do stage2 "$1" "$seed"; done; } >> "$OUT/$1.log" 2>&1
}

scans "$TRAIN" "$SCENES" 100000   # the shipped model's training scans
scans "$BENCH" 50 5000            # the held-out benchmark
scans "$VAL" 50 100250            # validation: the scans after the training ones
started=$(date +%s)
pids=()
for f in "${FUSIONS[@]}"; do
  fusion "$f" &
  pids+=($!)
  # The first run prepares the training set; the second waits for it rather than preparing it again.
  while [ ${#pids[@]} -eq 1 ] && kill -0 "${pids[0]}" 2>/dev/null && [ ! -f "$OUT/$f/stage1/train_settings.json" ]; do
    sleep 5
  done
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "${FUSIONS[$i]} failed: see $OUT/${FUSIONS[$i]}.log" >&2; failed=1; }
done
[ "$failed" = 0 ] || exit 1
echo "both fusions, side by side: $(( ($(date +%s) - started) / 60 )) min"
for seed in $SEEDS; do
  for set in bench val; do
    echo; echo "== $set, stage-2 seed $seed$TAG: add - 2d"
    "$SSR" compare "$OUT/2d/$set-seed$seed$TAG" "$OUT/add/$set-seed$seed$TAG"
  done
done
