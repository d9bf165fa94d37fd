#!/usr/bin/env bash
# The full offline BFCL comparison on the default model (resumable: rerun to continue):
# every multi-turn category at 10 seeded cases, then every single-turn category at 30,
# calltune vs llama-cpp-python's native handler, then the combined report.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
OUT=${OUT:-bench/results/bfcl_full/run}   # committed as it grows, so a later session resumes it
python bench/bfcl_compare.py --categories multi_turn --multi-turn-limit "${MT_LIMIT:-10}" --out "$OUT" --publish-as bfcl_full "$@"
python bench/bfcl_compare.py --categories single_turn --limit "${LIMIT:-30}" --out "$OUT" --publish-as bfcl_full "$@"
python bench/bfcl_compare.py --report-only --out "$OUT" --publish-as bfcl_full "$@"
