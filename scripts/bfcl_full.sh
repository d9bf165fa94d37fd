#!/usr/bin/env bash
# The full offline BFCL comparison on the default model (resumable: rerun to continue):
# every single-turn category at 30 seeded cases (the cheap part first), then every multi-turn
# category at 10,
# calltune vs llama-cpp-python's native handler, then an ablation column per turn-level fix
# (rescored from the same outputs) and the combined report.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
OUT=${OUT:-bench/results/bfcl_full/run}   # committed as it grows, so a later session resumes it
python bench/bfcl_compare.py --categories single_turn --limit "${LIMIT:-30}" --out "$OUT" --publish-as bfcl_full "$@"
python bench/bfcl_compare.py --categories multi_turn --multi-turn-limit "${MT_LIMIT:-10}" --out "$OUT" --publish-as bfcl_full \
  --systems llama-cpp-native,calltune "$@"
# then calltune without its multi-turn fix (later requests answered in prose are not asked for
# their calls): that ablation needs its own generations (the state changes with each call), so
# it runs after the comparison, on the same cases; it never applies to a single-turn case
python bench/bfcl_compare.py --categories multi_turn --multi-turn-limit "${MT_LIMIT:-10}" --out "$OUT" --publish-as bfcl_full \
  --systems calltune-no-missed "$@"
# ablations from the same outputs (no generation): each turn-level fix switched off in turn
for ab in "no-continue --first-round" "no-relevance --keep-dropped" "no-grounding --keep-ungrounded" "no-fanout --keep-merged"; do
  name=calltune-${ab%% *}; flag=${ab#* }
  rm -f "$OUT/cases/$name.jsonl"
  calltune eval rescore "$OUT" --from calltune --as "$name" $flag > /dev/null
done
python bench/bfcl_compare.py --report-only --out "$OUT" --publish-as bfcl_full \
  --systems calltune,calltune-no-continue,calltune-no-relevance,calltune-no-grounding,calltune-no-fanout,calltune-no-missed,llama-cpp-native "$@"
