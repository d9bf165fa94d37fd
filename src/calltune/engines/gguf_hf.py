"""A GGUF model as a Hugging Face checkpoint, converted once and kept on disk.

transformers reads a ``.gguf`` file (``from_pretrained(..., gguf_file=...)``) by parsing its
metadata in Python and de-quantising every tensor: for Gemma 3 270M (a 262k-piece vocabulary) that
is about 100 s on a 2-core CPU (the tokenizer's conversion alone 40 s). Training, the
transformers engine and export all load their GGUF base this way, so the first load saves the
result (float32 safetensors and the tokenizer) under ``$CALLTUNE_HOME/hf`` (or
``~/.cache/calltune/hf``), keyed by the file's name, size and modification time, and every later
load reads that checkpoint (a few seconds). The tokenizer is kept apart from the weights, so
reading a tokenizer (``calltune data check --model x.gguf``) never converts a model.
``CALLTUNE_GGUF_HF_CACHE=0`` turns the cache off.
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


PARTS = ("model", "tokenizer")
_MARKER = {"model": "config.json", "tokenizer": "tokenizer_config.json"}


def cached_checkpoint(directory: str | os.PathLike[str], gguf_file: str, part: str = "model") -> Path | None:
    """The converted ``part`` (``model`` or ``tokenizer``) of ``directory/gguf_file`` when it is
    already on disk."""
    src = Path(directory) / gguf_file
    if not enabled() or not src.is_file():
        return None
    dest = cache_root() / cache_key(src) / part
    return dest if (dest / _MARKER[part]).is_file() else None


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


def hf_checkpoint(
    directory: str | os.PathLike[str], gguf_file: str, part: str = "model", **kwargs: Any
) -> Path | None:
    """The HF checkpoint of ``directory/gguf_file``'s ``part`` (``model``: config and float32
    weights; ``tokenizer``: the tokenizer alone, so reading a tokenizer never converts the
    weights), converted and saved on the first call; None when the cache is off or the weights
    stay in GGUF blocks. ``kwargs`` go to the conversion's ``from_pretrained``."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    src = Path(directory) / gguf_file
    if not enabled() or not src.is_file():
        return None
    found = cached_checkpoint(directory, gguf_file, part)
    if found is not None:
        return found
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dest = cache_root() / cache_key(src) / part
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{part}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    if part == "tokenizer":
        obj = AutoTokenizer.from_pretrained(str(directory), gguf_file=gguf_file, **kwargs)
    else:
        obj = AutoModelForCausalLM.from_pretrained(
            str(directory), gguf_file=gguf_file, dtype=torch.float32, **kwargs
        )
        if getattr(getattr(obj, "hf_quantizer", None), "supported", False):
            return None  # kept in GGUF blocks: nothing plain to save
        drop_gguf_quantizer(obj)
    try:
        obj.save_pretrained(str(tmp))
        try:
            os.replace(tmp, dest)
        except OSError:  # another process saved it first
            if cached_checkpoint(directory, gguf_file, part) is None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


__all__ = ["cache_root", "cached_checkpoint", "drop_gguf_quantizer", "hf_checkpoint"]
