"""A GGUF model as a Hugging Face checkpoint, converted once and kept on disk.

transformers reads a ``.gguf`` file (``from_pretrained(..., gguf_file=...)``) by parsing its
metadata in Python and de-quantising every tensor: for Gemma 3 270M (a 262k-piece vocabulary) that
is about 100 s on a 2-core CPU, of which the tokenizer's conversion is most. Training, the
transformers engine and export all load their GGUF base this way, so the first load saves the
result (float32 safetensors and the tokenizer) under ``$CALLTUNE_HOME/hf`` (or
``~/.cache/calltune/hf``), keyed by the file's name, size and modification time, and every later
load reads that checkpoint (a few seconds). ``CALLTUNE_GGUF_HF_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..models import cache_dir


def cache_root() -> Path:
    """``$CALLTUNE_HOME/hf`` or ``~/.cache/calltune/hf``."""
    return cache_dir().parent / "hf"


def enabled() -> bool:
    return os.environ.get("CALLTUNE_GGUF_HF_CACHE", "1") != "0"


def cache_key(gguf: Path) -> str:
    st = gguf.stat()
    return f"{gguf.stem}-{st.st_size}-{st.st_mtime_ns}"


def cached_checkpoint(directory: str | os.PathLike[str], gguf_file: str) -> Path | None:
    """The converted checkpoint of ``directory/gguf_file`` when it is already on disk."""
    src = Path(directory) / gguf_file
    if not enabled() or not src.is_file():
        return None
    dest = cache_root() / cache_key(src)
    return dest if (dest / "config.json").is_file() and (dest / "tokenizer_config.json").is_file() else None


def drop_gguf_quantizer(model: Any) -> Any:
    """Forget the quantizer transformers' legacy GGUF path leaves on a de-quantised model, so it
    trains, merges and saves like any other."""
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        try:
            delattr(model.config, "quantization_config")
        except AttributeError:
            model.config.quantization_config = None
    return model


def hf_checkpoint(directory: str | os.PathLike[str], gguf_file: str, **kwargs: Any) -> Path | None:
    """The HF checkpoint of ``directory/gguf_file`` (converted and saved on the first call), or
    None when the cache is off. ``kwargs`` go to both ``from_pretrained`` calls of the conversion."""
    src = Path(directory) / gguf_file
    if not enabled() or not src.is_file():
        return None
    found = cached_checkpoint(directory, gguf_file)
    if found is not None:
        return found
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dest = cache_root() / cache_key(src)
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(str(directory), gguf_file=gguf_file, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(
        str(directory), gguf_file=gguf_file, dtype=torch.float32, **kwargs
    )
    if getattr(getattr(model, "hf_quantizer", None), "supported", False):
        return None  # kept in GGUF blocks: nothing plain to save
    drop_gguf_quantizer(model)
    try:
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        try:
            os.replace(tmp, dest)
        except OSError:  # another process saved it first
            if cached_checkpoint(directory, gguf_file) is None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


__all__ = ["cache_root", "cached_checkpoint", "drop_gguf_quantizer", "hf_checkpoint"]
