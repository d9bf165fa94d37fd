"""Loading base models and reading/writing training outputs.

A training output directory (``runs/x``) holds:

- the model (``method: full``, or any method with ``--merge``) or the PEFT adapter,
- the tokenizer (with the format's role markers if they were added),
- ``calltune.json``::

    {"format": "chatglm3", "base_model": "<dir, hub id or GGUF directory>",
     "gguf_file": "<the base's GGUF file name (adapters only)>", "adapter": true,
     "method": "lora", "merged": false, "added_tokens": ["<|user|>", ...]}

``save_output`` writes one at the end of training (with ``train_summary.json``);
``load_trained(path)`` returns ``(model, tokenizer, meta)`` from such a directory; the
transformers engine uses it so that ``calltune run --model runs/x`` works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import TrainError
from .encode import bos_id, get_format_obj

if TYPE_CHECKING:
    from .config import TrainConfig

META_FILE = "calltune.json"
BUILTIN_GGUF = {"gemma-270m", "gemma3-270m", "gemma"}


def resolve_base(model: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """``(directory or hub id, gguf file name or None)`` for a model reference.

    ``gemma-270m`` is the installed Gemma 3 270M GGUF (assembled on first use); a path to a
    ``.gguf`` file is split into its directory and file name.
    """
    if model in BUILTIN_GGUF:
        from ..models import gemma_model_path

        p = gemma_model_path()
        return str(p.parent), p.name
    p = Path(model)
    if p.suffix == ".gguf":
        if not p.is_file():
            raise FileNotFoundError(f"{model}: no such GGUF file")
        return str(p.resolve().parent), p.name
    return model, gguf_file


def plain_base(model: str, gguf_file: str | None = None, part: str = "model") -> tuple[str, str | None]:
    """:func:`resolve_base`, with a GGUF base replaced by its converted HF checkpoint's ``part``
    (``model`` or ``tokenizer``; made once, kept under the cache: see
    :mod:`calltune.engines.gguf_hf`) when the cache is on."""
    from ..engines.gguf_hf import hf_checkpoint

    base, gguf = resolve_base(model, gguf_file)
    if gguf:
        ck = hf_checkpoint(base, gguf, part)
        if ck is not None:
            return str(ck), None
    return base, gguf


def load_tokenizer(model: str, gguf_file: str | None = None) -> Any:
    from transformers import AutoTokenizer

    base, gguf = plain_base(model, gguf_file, "tokenizer")
    kw = {"gguf_file": gguf} if gguf else {}
    tok = AutoTokenizer.from_pretrained(base, **kw)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(model: str, gguf_file: str | None = None, dtype: Any = None) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    from ..engines.gguf_hf import drop_gguf_quantizer

    base, gguf = plain_base(model, gguf_file)
    kw: dict[str, Any] = {"dtype": dtype or torch.float32}
    if gguf:
        kw["gguf_file"] = gguf
    model = AutoModelForCausalLM.from_pretrained(base, **kw)
    q = getattr(model, "hf_quantizer", None)
    if gguf and q is not None:
        if getattr(q, "supported", False):
            raise ValueError(
                f"transformers kept {gguf} in GGUF blocks (not trainable); convert it to a HF checkpoint first"
            )
        # the legacy GGUF path de-quantised every weight into a plain tensor: forget the quantizer
        # so that the model trains like any other and can be saved (full fine-tuning, --merge)
        drop_gguf_quantizer(model)
    return model


def merge_adapter(
    adapter_dir: str | Path,
    out: str | Path,
    base_model: str,
    gguf_file: str | None = None,
    format: str = "chatglm3",
) -> Path:
    """Merge a LoRA adapter directory (with its tokenizer) into its base and write a full model
    output directory (``calltune.json`` with ``adapter: false, merged: true``)."""
    import torch
    from peft import PeftModel
    from transformers import AutoTokenizer

    adapter_dir, out = Path(adapter_dir), Path(out)
    tok = AutoTokenizer.from_pretrained(str(adapter_dir))
    base = load_model(base_model, gguf_file, dtype=torch.float32)
    if base.get_input_embeddings().weight.shape[0] != len(tok):
        base.resize_token_embeddings(len(tok), mean_resizing=False)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out))
    save_tokenizer(tok, out)
    b, _ = resolve_base(base_model, gguf_file)
    meta = {"format": format, "base_model": b, "adapter": False, "method": "lora", "merged": True}
    write_meta(out, meta)
    return out


def save_output(
    model: Any,
    tok: Any,
    cfg: TrainConfig,
    added: list[str],
    out: Path,
    summary: dict[str, Any],
    acc: Any = None,
) -> None:
    """Write the model/adapter, tokenizer, ``calltune.json`` and ``train_summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    base, gguf = resolve_base(cfg.model, cfg.gguf_file)
    save = acc.save if acc is not None else None
    merged = False
    if cfg.method == "full":
        model.save_pretrained(str(out), save_function=save) if save else model.save_pretrained(str(out))
    else:
        if cfg.merge:
            if cfg.method != "lora":
                raise TrainError("--merge needs --method lora (a prefix cannot be merged into the weights)")
            model.save_pretrained(str(out / "adapter"), save_embedding_layers=False)
            save_tokenizer(tok, out / "adapter")
            merged_model = model.merge_and_unload()
            merged_model.save_pretrained(str(out))
            merged = True
        elif cfg.method == "lora":
            # new marker rows live in the adapter (trainable tokens): no need for the whole embedding
            model.save_pretrained(str(out), save_embedding_layers=False)
        else:
            model.save_pretrained(str(out))
    save_tokenizer(tok, out)
    meta: dict[str, Any] = {
        "format": getattr(get_format_obj(cfg.format), "name", cfg.format),
        "base_model": base,
        "adapter": cfg.method != "full" and not merged,
        "method": cfg.method,
        "merged": merged,
        "added_tokens": added,
    }
    if gguf and meta["adapter"]:
        # the base the adapter goes on is a GGUF file in base_model's directory (a full or merged
        # model is saved as safetensors in OUT: no gguf_file, which would name a file in OUT)
        meta["gguf_file"] = gguf
    write_meta(out, meta)
    (out / "train_summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str) + "\n"
    )


def save_tokenizer(tok: Any, out: Path) -> None:
    """Save the tokenizer; record ``add_bos_token`` when the model wants BOS (training put it
    in front of every sample, so inference must too)."""
    tok.save_pretrained(str(out))
    if bos_id(tok) is not None:
        f = out / "tokenizer_config.json"
        d = json.loads(f.read_text(encoding="utf-8"))
        d["add_bos_token"] = True
        f.write_text(json.dumps(d, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read_meta(path: str | Path) -> dict[str, Any]:
    f = Path(path) / META_FILE
    if not f.is_file():
        raise FileNotFoundError(f"{path}: not a calltune training output (no {META_FILE})")
    return json.loads(f.read_text(encoding="utf-8"))


def write_meta(path: str | Path, meta: dict[str, Any]) -> None:
    Path(path).mkdir(parents=True, exist_ok=True)
    (Path(path) / META_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def load_trained(
    path: str | Path, dtype: Any = None, device: str | None = None
) -> tuple[Any, Any, dict[str, Any]]:
    """Load a training output: ``(model in eval mode, tokenizer, calltune.json)``.

    A full or merged model loads directly; an adapter loads its base (``base_model`` /
    ``gguf_file``), resizes the embeddings to the saved tokenizer and applies the adapter.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    meta = read_meta(path)
    tok = AutoTokenizer.from_pretrained(str(path))
    dtype = dtype or torch.float32
    if meta.get("adapter"):
        from peft import PeftModel

        base = load_model(meta["base_model"], meta.get("gguf_file"), dtype=dtype)
        if base.get_input_embeddings().weight.shape[0] != len(tok):
            base.resize_token_embeddings(len(tok), mean_resizing=False)
        model = PeftModel.from_pretrained(base, str(path))
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    if device:
        model.to(device)
    model.eval()
    return model, tok, meta
