#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs the whole test suite: fast tests,
# the tests on the real default model (-m model) and the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
ruff check src tests bench
set +e
python -m pytest -q -rs "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi
exit "$rc"
