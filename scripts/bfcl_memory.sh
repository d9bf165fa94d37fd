#!/usr/bin/env bash
# BFCL's offline memory categories on the default model, calltune vs llama-cpp-python's native
# handler, into the same run as scripts/bfcl_full.sh (run it after that one: one model job at a
# time on a small CPU). Resumable: rerun to continue; each system's prerequisite chains are kept
# under $OUT/memory/<system>/ and run once per scenario (hours of CPU per system and category).
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
OUT=${OUT:-bench/results/bfcl_full/run}
python bench/bfcl_compare.py --categories "${MEM_CATEGORIES:-memory_kv,memory_rec_sum}" --multi-turn-limit "${MEM_LIMIT:-10}" \
  --out "$OUT" --publish-as bfcl_full --systems calltune,llama-cpp-native "$@"
