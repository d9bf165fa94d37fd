"""``calltune export gguf``: a training run converted by llama.cpp's converter gives the same
greedy tokens on llama.cpp as on transformers, an adapter run is merged first, and the engine
loader serves an exported run on llama.cpp.

The model is a 6-layer random Gemma 3 (Gemma 3 270M's layer pattern: five sliding-window
layers, then a global one) with the real Gemma 3 tokenizer and the chatglm3 markers added, as
a trained student has them; the files are exported as f32 so that the two runtimes compute the
same numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from train_helpers import fresh_tokenizer, tiny_model
from typer.testing import CliRunner

from calltune.engines import EngineError
from calltune.engines.loader import load_engine, plan_engine
from calltune.formats import get_format
from calltune.train.artifacts import load_trained, read_meta, save_tokenizer, write_meta
from calltune.train.encode import add_format_tokens
from calltune.train.export import ExportError, export_gguf, find_converter, quantize, quantize_ftype

pytest.importorskip("llama_cpp")
pytest.importorskip("peft")

N_TOKENS = 8


@pytest.fixture(scope="module")
def converter() -> Path:
    try:
        return find_converter()
    except ExportError as e:
        pytest.skip(str(e))


def _tiny_gemma(vocab_size: int) -> Any:
    """Gemma 3 270M's layer pattern (five sliding-window layers, then a global one), as
    llama.cpp assumes it, and peaked logits (no near-ties for the two runtimes to break apart)."""
    return tiny_model(
        vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=6,
        head_dim=32,
        query_pre_attn_scalar=32,  # llama.cpp scales queries by 1/sqrt(head_dim)
        max_position_embeddings=1024,
        layer_types=["sliding_attention"] * 5 + ["full_attention"],
        initializer_range=0.2,
    )


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory) -> Path:
    """A ``method: full`` run (a tiny HF checkpoint with the chatglm3 markers), not exported."""
    tok = fresh_tokenizer()
    added = add_format_tokens(tok, "chatglm3")
    run = tmp_path_factory.mktemp("full-run")
    _tiny_gemma(len(tok)).save_pretrained(str(run))
    save_tokenizer(tok, run)
    meta = {"format": "chatglm3", "base_model": str(run), "adapter": False, "method": "full"}
    write_meta(run, {**meta, "merged": False, "added_tokens": added})
    return run


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, base_dir, converter) -> Path:
    """A LoRA run over ``base_dir`` (random, non-zero adapter weights), exported to f32 once
    through ``calltune export gguf`` (the one conversion of this module: each takes ~20 s)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from calltune.train.cli import register

    base = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    torch.manual_seed(1)
    targets = ["q_proj", "v_proj", "down_proj"]
    peft_model = get_peft_model(
        base, LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False)
    )
    run = tmp_path_factory.mktemp("lora-run")
    peft_model.save_pretrained(str(run))
    save_tokenizer(AutoTokenizer.from_pretrained(str(base_dir)), run)
    write_meta(run, {"format": "chatglm3", "base_model": str(base_dir), "adapter": True, "method": "lora"})

    app = typer.Typer()
    register(app)
    r = CliRunner().invoke(app, ["export", "gguf", str(run), "--quant", "f32"])
    assert r.exit_code == 0, r.output
    assert f"{run / 'model.gguf'}: " in r.output and "adapter merged into its base" in r.output
    return run


PROMPT_MESSAGES = [{"role": "user", "content": "What's the weather like in Boston today?"}]


def _prompt() -> str:
    return get_format("chatglm3").render(PROMPT_MESSAGES)


def _hf_greedy(run: Path) -> tuple[list[int], list[int]]:
    """(prompt ids, the first greedy tokens) on transformers, ids as the engine makes them."""
    import torch

    model, tok, _ = load_trained(run)
    ids = [tok.bos_token_id, *tok(_prompt(), add_special_tokens=False)["input_ids"]]
    seq, out = list(ids), []
    with torch.no_grad():
        for _ in range(N_TOKENS):
            nxt = int(model(torch.tensor([seq])).logits[0, -1].argmax())
            out.append(nxt)
            seq.append(nxt)
    return ids, out


def _llama_greedy(gguf: Path) -> tuple[list[int], list[int]]:
    from llama_cpp import Llama

    llm = Llama(str(gguf), n_ctx=256, n_threads=2, verbose=False)
    try:
        ids = list(llm.tokenize(_prompt().encode(), add_bos=True, special=True))
        out: list[int] = []
        for t in llm.generate(ids, temp=0.0, top_k=1, repeat_penalty=1.0):
            out.append(int(t))
            if len(out) == N_TOKENS:
                break
        return ids, out
    finally:
        llm.close()


def test_merged_adapter_export_gives_the_same_greedy_tokens(lora_run, base_dir):
    meta = read_meta(lora_run)
    assert meta["export"]["gguf"] == "model.gguf" and meta["export"]["quant"] == "f32"
    assert meta["export"]["merged_adapter"] is True
    assert meta["adapter"] is True and meta["format"] == "chatglm3"  # the rest is kept
    assert [p.name for p in lora_run.iterdir() if p.name.startswith(".export")] == []  # temp dir gone

    hf_ids, hf_out = _hf_greedy(lora_run)  # transformers: base + adapter, unmerged
    ll_ids, ll_out = _llama_greedy(lora_run / "model.gguf")
    assert ll_ids == hf_ids  # the same tokenizer: role markers are single special tokens in both
    added = set(json.loads((base_dir / "calltune.json").read_text())["added_tokens"])
    markers = [
        t["id"]
        for t in json.loads((lora_run / "tokenizer.json").read_text())["added_tokens"]
        if t["content"] in added
    ]
    assert len(set(hf_ids) & set(markers)) >= 2
    assert ll_out == hf_out
    assert hf_out != _hf_greedy(base_dir)[1]  # the adapter changes the output: the merge is in the file


def test_loader_serves_an_exported_run_on_llamacpp(lora_run):
    plan = plan_engine(lora_run)
    assert plan.engine == "llamacpp" and plan.target == str(lora_run / "model.gguf")
    assert plan.kwargs == {"model_id": lora_run.name, "default_format": "chatglm3"}
    hf = plan_engine(lora_run, engine="hf")
    assert (hf.engine, hf.target) == ("transformers", str(lora_run))
    eng = load_engine(lora_run, n_ctx=256)
    try:
        assert type(eng).__name__ == "LlamaCppEngine"
        assert eng.default_format == "chatglm3" and eng.model_id == lora_run.name
        assert eng.tokenizer.special_id("<|observation|>") is not None  # the marker is one token
    finally:
        eng.close()


def test_loader_errors_for_runs(tmp_path):
    run = tmp_path / "run"
    write_meta(run, {"format": "chatglm3", "base_model": "x", "adapter": True, "method": "lora"})
    assert plan_engine(run).engine == "transformers"  # no export: as before
    with pytest.raises(EngineError, match=r"without a GGUF export: run `calltune export gguf"):
        plan_engine(run, engine="llamacpp")
    write_meta(run, {**read_meta(run), "export": {"gguf": "model.gguf", "quant": "f16"}})
    with pytest.raises(EngineError, match=r"names the GGUF export model.gguf, which is missing"):
        plan_engine(run)
    assert plan_engine(run, engine="transformers").engine == "transformers"


def test_quantize_to_a_k_quant(lora_run, tmp_path):
    from llama_cpp import Llama

    src, out = lora_run / "model.gguf", tmp_path / "q.gguf"
    quantize(src, out, quantize_ftype("q4_k_m"))  # llama.cpp falls back where rows are < 256 wide
    assert 0 < out.stat().st_size < src.stat().st_size / 2
    vocab = []
    for f in (src, out):
        llm = Llama(str(f), vocab_only=True, verbose=False)
        vocab.append((llm.n_vocab(), llm.tokenize(_prompt().encode(), special=True)))
        llm.close()
    assert vocab[0] == vocab[1]


def test_export_errors(tmp_path):
    with pytest.raises(ExportError, match="not a calltune training output"):
        export_gguf(tmp_path)
    write_meta(tmp_path, {"format": "chatglm3", "base_model": "x", "adapter": True, "method": "ptuning"})
    with pytest.raises(ExportError, match="unknown GGUF type 'q3_z'.*q4_k_m"):
        export_gguf(tmp_path, quant="q3_z", converter=tmp_path / "unused.py")
    with pytest.raises(ExportError, match="only a LoRA adapter can be merged"):
        export_gguf(tmp_path, quant="f16", converter=tmp_path / "unused.py")
