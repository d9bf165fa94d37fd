#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs the whole test suite: the fast tests (on two
# pytest-xdist workers: much of their time is spent waiting on kernels and subprocesses), then
# the tests on the real default model and the browser tests (-m "model or browser"), one at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
ruff check src tests bench
run() {  # pytest's "no tests ran" (5) is a failure, not a pass
  set +e
  python -m pytest -q -rs "$@"
  local rc=$?
  set -e
  if [ "$rc" = 5 ]; then echo "error: pytest collected no tests ($*)" >&2; return 1; fi
  return "$rc"
}
if [ $# -gt 0 ]; then run "$@"; exit; fi  # a subset: bash scripts/test.sh -m "not model" ...
fast=0; slow=0
run -n "${CALLTUNE_TEST_WORKERS:-2}" -m "not model and not browser" || fast=$?
run -m "model or browser" || slow=$?
if [ "$fast" != 0 ] || [ "$slow" != 0 ]; then
  echo "error: fast tests exit $fast, model and browser tests exit $slow" >&2
  exit 1
fi
