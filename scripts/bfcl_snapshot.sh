#!/usr/bin/env bash
# A dated snapshot of the full BFCL run with every rescored ablation column, for the README's
# tables: copies the run (which may still be going) to a scratch folder, judges calltune's
# stored outputs again with each turn-level fix switched off (no generation), and publishes the
# combined report under bench/results/bfcl_full/snapshot-<date>/.
#   bash scripts/bfcl_snapshot.sh [DATE]        (default: today)
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
SRC=${SRC:-bench/results/bfcl_full/run}
name=snapshot-${1:-$(date +%F)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$SRC/." "$tmp/"
rm -rf "$tmp/partial"
systems=calltune-coerced
# calltune's single-turn records predate string coercion: "coerced" is today's default judged
# from them; its multi-turn and memory records are carried as generated (a stateful record
# cannot be judged again; most multi-turn ones predate coercion too)
calltune eval rescore "$tmp" --from calltune --as calltune-coerced --carry-stateful > /dev/null
for ab in "no-continue --first-round" "no-relevance --keep-dropped" "no-grounding --keep-ungrounded" \
  "no-fanout --keep-merged"; do
  n=calltune-${ab%% *}
  rm -f "$tmp/cases/$n.jsonl"
  calltune eval rescore "$tmp" --from calltune --as "$n" ${ab#* } > /dev/null
  systems=$systems,$n
done
[ -s "$tmp/cases/calltune-no-missed.jsonl" ] && systems=$systems,calltune-no-missed
python bench/bfcl_compare.py --report-only --out "$tmp" --publish-as "bfcl_full/$name" \
  --systems "calltune,$systems,llama-cpp-native" > /dev/null
echo "wrote bench/results/bfcl_full/$name/ (systems: calltune,$systems,llama-cpp-native)"
