"""A GGUF base is converted to an HF checkpoint once and read from it afterwards (gguf_hf)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from calltune.engines import gguf_hf  # noqa: E402


def test_the_first_load_converts_and_later_loads_read_the_checkpoint(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    import transformers

    from calltune.train.artifacts import load_model, load_tokenizer

    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path / "home"))
    assert gguf_hf.cached_checkpoint(tiny_gguf.parent, tiny_gguf.name) is None
    direct = transformers.AutoModelForCausalLM.from_pretrained(
        str(tiny_gguf.parent), gguf_file=tiny_gguf.name, dtype=torch.float32
    )
    direct_tok = transformers.AutoTokenizer.from_pretrained(str(tiny_gguf.parent), gguf_file=tiny_gguf.name)

    tk = gguf_hf.hf_checkpoint(tiny_gguf.parent, tiny_gguf.name, "tokenizer")
    assert tk is not None and tk.parent.parent == tmp_path / "home" / "hf"
    assert not (tk.parent / "model").exists()  # reading the tokenizer converts no weights
    ck = gguf_hf.hf_checkpoint(tiny_gguf.parent, tiny_gguf.name)
    assert ck == tk.parent / "model" and (ck / "config.json").is_file()
    assert not list(ck.parent.glob("*.tmp-*"))

    # later loads never parse the GGUF again
    def no_gguf(*a: object, **kw: object) -> None:
        if kw.get("gguf_file"):
            raise AssertionError("the GGUF was parsed again")

    real_model = transformers.AutoModelForCausalLM.from_pretrained
    real_tok = transformers.AutoTokenizer.from_pretrained
    monkeypatch.setattr(
        transformers.AutoModelForCausalLM,
        "from_pretrained",
        lambda *a, **kw: no_gguf(*a, **kw) or real_model(*a, **kw),
    )
    monkeypatch.setattr(
        transformers.AutoTokenizer,
        "from_pretrained",
        lambda *a, **kw: no_gguf(*a, **kw) or real_tok(*a, **kw),
    )
    assert gguf_hf.hf_checkpoint(tiny_gguf.parent, tiny_gguf.name) == ck
    model = load_model(str(tiny_gguf))  # a .gguf path, as `calltune train --model x.gguf` gives it
    tok = load_tokenizer(str(tiny_gguf))
    text = "Water the fern every 3 days."
    assert tok(text)["input_ids"] == direct_tok(text)["input_ids"]
    ids = torch.tensor([direct_tok(text)["input_ids"]])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, direct(ids).logits)  # float32 both: the same weights
    assert getattr(model, "hf_quantizer", None) is None


def test_a_changed_file_is_converted_again_and_the_cache_can_be_turned_off(
    tiny_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path / "home"))
    first = gguf_hf.hf_checkpoint(tiny_gguf.parent, tiny_gguf.name)
    st = tiny_gguf.stat()
    os.utime(tiny_gguf, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert gguf_hf.cached_checkpoint(tiny_gguf.parent, tiny_gguf.name) is None
    second = gguf_hf.hf_checkpoint(tiny_gguf.parent, tiny_gguf.name)
    assert second is not None and second != first and second.is_dir()
    monkeypatch.setenv("CALLTUNE_GGUF_HF_CACHE", "0")
    assert gguf_hf.hf_checkpoint(tiny_gguf.parent, tiny_gguf.name) is None
    assert gguf_hf.hf_checkpoint(tmp_path, "missing.gguf") is None
