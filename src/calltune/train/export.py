"""Export a training output to GGUF, so that llama.cpp serves it.

``export_gguf(run_dir)`` writes ``run_dir/model.gguf`` and records it in the run's
``calltune.json`` (``"export": {"gguf": "model.gguf", "quant": "f16", ...}``); from then on
``calltune run/serve --model run_dir`` loads it on llama.cpp with the run's chat format.

The conversion is llama.cpp's own ``convert_hf_to_gguf.py`` (with its ``conversion``
package and its ``gguf-py``), taken from the source distribution of the installed
llama-cpp-python: the converter and the runtime that reads its output come from the same
llama.cpp commit, and nothing large lives in calltune. The ``gguf`` package alone holds the
file writer and tensor names, not the per-architecture rules (Gemma's norm offset, the
tokenizer's pre-tokenizer id, ...), so it cannot convert a model by itself.
:func:`install_converter` (``calltune export converter``; ``scripts/setup.sh`` runs it) keeps
those three parts under ``~/.cache/calltune/llama.cpp/<version>``.

Steps: an adapter run is merged into its base (PEFT ``merge_and_unload``) into a temporary
HF checkpoint with the run's tokenizer; a full or merged run is converted as it is. The
converter writes ``f32``/``f16``/``bf16``/``q8_0`` itself; other types (``q4_k_m``, ...)
are made from its f16 output by llama.cpp's quantizer (``llama_model_quantize``, the
function behind ``llama-quantize``) in the installed libllama.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CalltuneError

CONVERTER_ENV = "CALLTUNE_GGUF_CONVERTER"
CONVERTER_SCRIPT = "convert_hf_to_gguf.py"
#: what the converter needs next to its script, as paths in the llama.cpp tree
CONVERTER_PARTS = (CONVERTER_SCRIPT, "conversion", "gguf-py", "LICENSE")
#: output types ``convert_hf_to_gguf.py`` writes itself (``auto``: the model's 16-bit type)
CONVERTER_TYPES = ("f32", "f16", "bf16", "q8_0", "auto")
DEFAULT_GGUF = "model.gguf"


class ExportError(CalltuneError, RuntimeError):
    """A run that cannot be exported to GGUF (no converter, a conversion that failed, ...)."""


@dataclass
class ExportResult:
    """What :func:`export_gguf` wrote."""

    path: Path
    quant: str
    bytes: int
    merged: bool  # an adapter was merged into its base first


# ---------------------------------------------------------------------- the converter


def llama_cpp_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama-cpp-python")
    except PackageNotFoundError as e:
        raise ExportError(
            "llama-cpp-python is not installed (pip install 'calltune[llamacpp]'): the GGUF "
            "converter is taken from its source distribution"
        ) from e


def converter_dir(version: str | None = None) -> Path:
    """Where :func:`install_converter` keeps the converter of llama-cpp-python ``version``."""
    from ..models import cache_dir

    return cache_dir().parent / "llama.cpp" / (version or llama_cpp_version())


def find_converter() -> Path:
    """``convert_hf_to_gguf.py``: ``$CALLTUNE_GGUF_CONVERTER`` (the script or a llama.cpp
    checkout holding it), else the one installed for this llama-cpp-python."""
    env = os.environ.get(CONVERTER_ENV)
    if env:
        p = Path(env).expanduser()
        script = p / CONVERTER_SCRIPT if p.is_dir() else p
        if not script.is_file():
            raise ExportError(f"${CONVERTER_ENV}={env}: no {CONVERTER_SCRIPT} there")
        return script
    script = converter_dir() / CONVERTER_SCRIPT
    if not script.is_file():
        raise ExportError(
            f"llama.cpp's GGUF converter is not installed ({script} is missing).\n"
            "Install it with:  calltune export converter   (pip downloads the llama-cpp-python "
            f"{llama_cpp_version()} source distribution and keeps its converter)\n"
            f"or point ${CONVERTER_ENV} at a llama.cpp checkout's {CONVERTER_SCRIPT}"
        )
    return script


def install_converter(sdist: str | os.PathLike[str] | None = None) -> Path:
    """Keep ``convert_hf_to_gguf.py``, ``conversion/``, ``gguf-py/`` and llama.cpp's LICENSE
    from the llama-cpp-python source distribution ``sdist`` (a .tar.gz; None: ``pip
    download`` the installed version's) under :func:`converter_dir`. Returns the script."""
    version = llama_cpp_version()
    dest = converter_dir(version)
    if (dest / CONVERTER_SCRIPT).is_file():
        return dest / CONVERTER_SCRIPT
    with tempfile.TemporaryDirectory(prefix="calltune-sdist-") as tmp:
        if sdist is None:
            sdist = _download_sdist(version, Path(tmp))
        staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=_mkdir(dest.parent)))
        try:
            _extract_converter(Path(sdist), staging)
            staging.rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return dest / CONVERTER_SCRIPT


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _download_sdist(version: str, into: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={version}"]
    cmd += ["--no-binary", ":all:", "--no-deps", "-d", str(into), "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(into.glob("llama_cpp_python-*.tar.gz"))
    if proc.returncode != 0 or not found:
        raise ExportError(
            f"pip could not download the llama-cpp-python {version} source distribution: "
            f"{_tail(proc.stderr or proc.stdout)}"
        )
    return found[0]


def _extract_converter(sdist: Path, dest: Path) -> None:
    with tarfile.open(sdist) as tar:
        root = next((n.split("/", 1)[0] for n in tar.getnames()), "")
        prefix = f"{root}/vendor/llama.cpp/"
        wanted = [
            m
            for m in tar.getmembers()
            if m.name.startswith(prefix)
            and any(
                m.name[len(prefix) :] == part or m.name[len(prefix) :].startswith(part + "/")
                for part in CONVERTER_PARTS
            )
        ]
        if not any(m.name == prefix + CONVERTER_SCRIPT for m in wanted):
            raise ExportError(f"{sdist} holds no vendor/llama.cpp/{CONVERTER_SCRIPT}")
        for m in wanted:
            m.name = m.name[len(prefix) :]
        tar.extractall(dest, members=wanted, filter="data")


# ---------------------------------------------------------------------- export


def export_gguf(
    run_dir: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    quant: str = "f16",
    *,
    converter: str | os.PathLike[str] | None = None,
) -> ExportResult:
    """Convert a training output directory to one GGUF file (default ``run_dir/model.gguf``)
    and record it in the run's ``calltune.json``; see the module docstring."""
    from .artifacts import read_meta, write_meta

    run = Path(run_dir)
    try:
        meta = read_meta(run)
    except FileNotFoundError as e:
        raise ExportError(str(e)) from None
    quant = quant.lower()
    ftype = None if quant in CONVERTER_TYPES else quantize_ftype(quant)
    script = Path(converter) if converter else find_converter()
    target = Path(out) if out else run / DEFAULT_GGUF
    target.parent.mkdir(parents=True, exist_ok=True)
    merged = bool(meta.get("adapter"))
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp:
        hf_dir = _merged_checkpoint(run, meta, Path(tmp) / "hf") if merged else run
        written = Path(tmp) / "model.gguf"
        _convert(script, hf_dir, written, quant if ftype is None else "f16")
        if ftype is not None:
            quantized = Path(tmp) / "quantized.gguf"
            quantize(written, quantized, ftype)
            written = quantized
        os.replace(written, target)
    meta["export"] = {
        "gguf": _relative(target, run),
        "quant": quant,
        "converter": f"llama.cpp {CONVERTER_SCRIPT} (llama-cpp-python {llama_cpp_version()})",
        "merged_adapter": merged,
    }
    write_meta(run, meta)
    return ExportResult(target, quant, target.stat().st_size, merged)


def _merged_checkpoint(run: Path, meta: dict[str, Any], dest: Path) -> Path:
    from .artifacts import merge_adapter

    if meta.get("method", "lora") != "lora":
        raise ExportError(
            f"{run} holds a {meta.get('method')} adapter: only a LoRA adapter can be merged into "
            "the weights (llama.cpp has no prefix tuning); train with --method lora or full"
        )
    if not meta.get("base_model"):
        raise ExportError(f"{run}/calltune.json has adapter: true but no base_model")
    return merge_adapter(run, dest, meta["base_model"], meta.get("gguf_file"), meta.get("format", "chatglm3"))


def _convert(script: Path, hf_dir: Path, out: Path, outtype: str) -> None:
    cmd = [sys.executable, str(script), str(hf_dir), "--outfile", str(out), "--outtype", outtype]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not out.is_file():
        raise ExportError(f"{CONVERTER_SCRIPT} failed on {hf_dir}: {_tail(proc.stderr or proc.stdout)}")


def quantize_ftype(quant: str) -> int:
    """llama.cpp's file type for a quantisation name (``q4_k_m`` → ``LLAMA_FTYPE_MOSTLY_Q4_K_M``)."""
    from ..engines.llamacpp import _llama_cpp

    llama_cpp = _llama_cpp()
    value = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quant.upper()}", None)
    if value is None:
        known = sorted(
            n[len("LLAMA_FTYPE_MOSTLY_") :].lower()
            for n in dir(llama_cpp)
            if n.startswith("LLAMA_FTYPE_MOSTLY_")
        )
        raise ExportError(
            f"unknown GGUF type {quant!r}: the converter writes {', '.join(CONVERTER_TYPES)}; "
            f"llama.cpp's quantizer makes {', '.join(known)}"
        )
    return int(value)


def quantize(src: Path, dest: Path, ftype: int, threads: int | None = None) -> None:
    """Quantise a GGUF file with llama.cpp's ``llama_model_quantize`` (as ``llama-quantize``)."""
    import ctypes

    from ..engines.llamacpp import _cpu_count, _llama_cpp

    llama_cpp = _llama_cpp()
    if not hasattr(llama_cpp, "llama_model_quantize"):
        raise ExportError("this llama-cpp-python has no llama_model_quantize: use --quant f16 or q8_0")
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads or _cpu_count()
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dest).encode(), ctypes.byref(params))
    if rc != 0 or not dest.is_file():
        raise ExportError(f"llama.cpp could not quantise {src} (llama_model_quantize returned {rc})")


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no output)"
