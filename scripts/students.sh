#!/usr/bin/env bash
# The general students (docs/training.md, "General students"): Gemma 3 270M trained on the
# generated trajectories (data/gen/kept.jsonl), LoRA vs full fine-tuning, AgentTuning's η = 0.2
# mixture vs agent data only; each exported to GGUF and measured on BFCL on the same seeded
# cases as the teacher (bench/results/bfcl_full/run), then the table (bench/students.py).
#
# Resumable at every step: rerun the script. A finished training run (train_summary.json) or
# export (model.gguf) is skipped, an interrupted one continues from its last checkpoint, an
# eval run directory continues with the cases it has not scored. One model job at a time.
#
#   bash scripts/students.sh                 # everything, in order
#   ONLY="base lora-agent" bash scripts/students.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate

DATA=${DATA:-data/gen/kept.jsonl}
GENERAL=${GENERAL:-data/general/kept.jsonl}
RUNS=${RUNS:-runs/students}                 # models (not committed)
RESULTS=${RESULTS:-bench/results/students}  # eval outputs and training summaries (committed)
EPOCHS=${EPOCHS:-1}
ONLY=${ONLY:-base lora-agent general lora-eta0.2 full-agent full-eta0.2 table}
# the issue's categories, at the teacher's seeded cases (scripts/bfcl_full.sh: 30 per
# single-turn category, 10 per multi-turn one, seed 0)
SINGLE=simple_python,multiple,parallel,parallel_multiple,irrelevance,live_simple,live_irrelevance
MULTI=multi_turn_base

want() { [[ " $ONLY " == *" $1 "* ]]; }
say() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }

evaluate() {  # NAME MODEL
  local name=$1 model=$2
  say "BFCL: $name"
  # --format: the base too is prompted in the students' format (its tokenizer lacks the
  # markers, so they reach it as text)
  # one call, so that OUT/report.md covers every category
  calltune eval bfcl --model "$model" --format chatglm3 --categories "$SINGLE,$MULTI" --limit 30 \
    --multi-turn-limit 10 --seed 0 --out "$RESULTS/$name"
}

student() {  # NAME TRAIN-ARGS...
  local name=$1; shift
  local run=$RUNS/$name
  if [[ ! -f $run/train_summary.json ]]; then
    say "train: $name"
    calltune train --model gemma-270m --format chatglm3 --data "$DATA" --out "$run" \
      --max-length 2048 --batch-size 2 --grad-accum 2 --epochs "$EPOCHS" \
      --save-every 10 --save-total-limit 1 --resume "$@"
  fi
  mkdir -p "$RESULTS/$name"
  cp "$run/train_summary.json" "$RESULTS/$name/train_summary.json"
  if [[ ! -f $run/model.gguf ]]; then
    say "export: $name"
    calltune export gguf "$run" --quant q8_0
  fi
  evaluate "$name" "$run"
}

# the whole run is one function, read before it starts: editing this file mid-run is safe
# (and `if want`, not `want &&`: set -e does not stop a failing command inside an && list)
main() {
  if want base; then evaluate base gemma-270m; fi
  if want lora-agent; then student lora-agent --method lora; fi
  if want general; then  # resumable: a finished run answers nothing again
    say "general chat data for the η mixture"
    calltune data general --teacher default --n "${GENERAL_N:-300}" --max-tokens 384 --out data/general
  fi
  if want lora-eta0.2; then student lora-eta0.2 --method lora --general "$GENERAL" --eta 0.2; fi
  # full fine-tuning: the same 8k tokens a step as 1 row x 4 (2 rows of 2048 took LoRA to a
  # 15.5 GB resident set; full adds about 4 GB of gradients and AdamW state on 24 GB)
  if want full-agent; then student full-agent --method full --batch-size 1 --grad-accum 4; fi
  if want full-eta0.2; then
    student full-eta0.2 --method full --batch-size 1 --grad-accum 4 --general "$GENERAL" --eta 0.2
  fi
  if want table; then
    args=()
    for s in base lora-agent lora-eta0.2 full-agent full-eta0.2; do
      [[ -d $RESULTS/$s/cases ]] || continue
      if [[ -f $RESULTS/$s/train_summary.json ]]; then args+=(--system "$s=$RESULTS/$s:$RESULTS/$s")
      else args+=(--system "$s=$RESULTS/$s"); fi
    done
    python bench/students.py "${args[@]}" --system teacher=bench/results/bfcl_full/run --out "$RESULTS"
  fi
}
main "$@"
