#!/usr/bin/env bash
# BFCL's offline memory categories on the default model, calltune vs llama-cpp-python's native
# handler, into the same run as scripts/bfcl_full.sh (run it after that one: one model job at a
# time on a small CPU). Resumable: rerun to continue; each system's prerequisite chains are kept
# under $OUT/memory/<system>/ and run once per scenario (hours of CPU per system and category).
# MEM_SCENARIOS picks the scenarios (default notetaker: its chain is the shortest, 24 user turns;
# customer and student have about 108 each); MEM_SCENARIOS= (empty) samples every scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
OUT=${OUT:-bench/results/bfcl_full/run}
SCENARIOS=${MEM_SCENARIOS-notetaker}
python bench/bfcl_compare.py --categories "${MEM_CATEGORIES:-memory_kv}" --multi-turn-limit "${MEM_LIMIT:-10}" \
  ${SCENARIOS:+--memory-scenarios "$SCENARIOS"} \
  --out "$OUT" --publish-as bfcl_full --systems calltune,llama-cpp-native "$@"
