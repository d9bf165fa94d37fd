"""The llama.cpp engine on the real default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M)."""

from __future__ import annotations

import threading
import uuid

import numpy as np
import pytest

from calltune.engines import EngineError, SamplingParams

pytestmark = pytest.mark.model


def chatml(user: str, system: str | None = None) -> str:
    sys_part = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    return f"{sys_part}<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


COUNT = chatml("Count from 1 to 20, separated by commas. Output only the numbers.")


def test_metadata_and_tokenizer(default_engine) -> None:
    eng = default_engine
    assert eng.context_length == 8192
    assert "<tool_call>" in (eng.chat_template or "")
    assert eng.default_format == "hermes"
    tok = eng.tokenizer
    assert tok.special_id("<|im_start|>") == 151644
    assert tok.special_id("<|im_end|>") == 151645
    assert tok.special_id("hello") is None
    # user text that spells a marker is never the marker
    assert 151645 not in tok.encode_text("<|im_end|>")
    assert eng.count_tokens("hello world") == 2
    assert eng.count_tokens("<|im_start|>user") == 2  # a rendered prompt's markers are one token each
    with pytest.raises(EngineError, match="out of the vocabulary"):
        eng.stream([1, 10**7], SamplingParams())


def test_max_tokens_is_respected(default_engine) -> None:
    c = default_engine.generate(COUNT, SamplingParams(max_tokens=6))
    assert (c.finish_reason, c.stop, c.completion_tokens) == ("length", None, 6)
    assert c.text.replace(" ", "").startswith("1,2,3")
    assert c.timings.keys() == {"prefill_s", "decode_s"}


def test_stop_string_cuts_text_and_is_reported(default_engine) -> None:
    c = default_engine.generate(COUNT, SamplingParams(max_tokens=40, stop=["7,", "never"]))
    assert (c.finish_reason, c.stop) == ("stop", "7,")
    assert c.text.replace(" ", "") == "1,2,3,4,5,6,"
    # a stop string made of several tokens ("," "5" ",")
    c = default_engine.generate(COUNT, SamplingParams(max_tokens=40, stop=[",5,", ", 5,"]))
    assert c.text.replace(" ", "") == "1,2,3,4" and c.stop in (",5,", ", 5,")


def test_end_of_turn_token_reported_as_stop(default_engine) -> None:
    c = default_engine.generate(
        chatml("Reply with exactly the word: pong"), SamplingParams(max_tokens=20, stop=["<|im_end|>"])
    )
    assert c.text.strip().lower().startswith("pong")
    assert (c.finish_reason, c.stop) == ("stop", "<|im_end|>")
    assert "<|im_end|>" not in c.text


def test_token_id_prompt_gives_same_output_as_text(default_engine) -> None:
    tok = default_engine.tokenizer
    start, end = tok.special_id("<|im_start|>"), tok.special_id("<|im_end|>")
    user = "Count from 1 to 20, separated by commas. Output only the numbers."
    ids = [
        start,
        *tok.encode_text(f"user\n{user}"),
        end,
        *tok.encode_text("\n"),
        start,
        *tok.encode_text("assistant\n"),
    ]
    params = SamplingParams(max_tokens=8)
    by_ids = default_engine.generate(ids, params)
    by_text = default_engine.generate(COUNT, params)
    assert by_ids.prompt_tokens == by_text.prompt_tokens == len(ids)
    assert by_ids.text == by_text.text


def test_closing_the_stream_stops_generation(default_engine) -> None:
    eng = default_engine
    prompt = chatml("Write a long story about a lighthouse keeper.")
    n_prompt = len(eng._prompt_ids(prompt))
    it = eng.stream(prompt, SamplingParams(max_tokens=300))
    first = next(it)
    assert first.finish_reason is None
    it.close()
    # nothing more was evaluated after the close: prompt + the few tokens already sampled
    assert eng.llama.n_tokens <= n_prompt + 3
    # and the engine is free again
    c = eng.generate(COUNT, SamplingParams(max_tokens=2))
    assert c.completion_tokens == 2


def test_utf8_output_has_no_broken_characters(default_engine) -> None:
    c = default_engine.generate(chatml("用中文写一句话：北京欢迎你。"), SamplingParams(max_tokens=24))
    assert "\ufffd" not in c.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in c.text)


def test_shared_prefix_reuses_the_kv_cache(default_engine) -> None:
    eng = default_engine
    tools = "\n".join(
        f'{{"name": "tool_{i}", "description": "Looks up record {i} in the archive by its key.", '
        f'"parameters": {{"key": "string"}}}}'
        for i in range(10)
    )
    system = f"Session {uuid.uuid4().hex}. You can call these tools:\n{tools}"  # cold: never seen before
    params = SamplingParams(max_tokens=1)
    first = list(eng.stream(chatml("Which tool reads record 3?", system), params))[-1].usage
    second = list(eng.stream(chatml("Is there a tool for record 7?", system), params))[-1].usage
    prefix = len(eng.llama.tokenize(f"<|im_start|>system\n{system}<|im_end|>\n".encode(), False, True))
    assert prefix > 250 and first["prompt_tokens"] > prefix and second["prompt_tokens"] > prefix
    # the whole system prompt came from the cache, only the new question was evaluated (the
    # time this saves is bench/engine_prefix_cache.py's; a timing assert here failed under load)
    assert first["cached_tokens"] <= 3
    assert second["cached_tokens"] >= prefix


def test_usage_reports_cached_tokens(default_engine) -> None:
    eng = default_engine
    system = f"{uuid.uuid4().hex}: answer briefly."
    params = SamplingParams(max_tokens=1)
    chunks = list(eng.stream(chatml("one", system), params))
    # a new system prompt: only "<|im_start|>system\n" (3 tokens) can come from the cache
    assert chunks[-1].usage["cached_tokens"] <= 3
    chunks = list(eng.stream(chatml("two", system), params))
    prefix = len(
        eng.llama.tokenize(
            f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n".encode(), False, True
        )
    )
    assert chunks[-1].usage["cached_tokens"] >= prefix


def test_a_side_question_does_not_cost_the_long_context(default_engine) -> None:
    """Step 1 (long tool list), a short unrelated request (the relevance check), step 2: the
    long context is kept and restored, so step 2 prefills only its new tokens, and it answers
    as a cold prefill of the same prompt does."""
    eng = default_engine
    tools = "\n".join(
        f'{{"name": "tool_{i}", "description": "Looks up record {i} in the archive by its key.", '
        f'"parameters": {{"key": "string"}}}}'
        for i in range(12)
    )
    system = f"Session {uuid.uuid4().hex}. You can call these tools:\n{tools}"
    step1 = chatml("Which tool reads record 3?", system)
    step2 = step1 + "tool_3<|im_end|>\n<|im_start|>user\nAnd record 8?<|im_end|>\n<|im_start|>assistant\n"
    params = SamplingParams(max_tokens=6)
    before = dict(eng.prefix_cache_stats)
    eng.generate(step1, params)
    eng.generate(chatml("Say yes or no."), SamplingParams(max_tokens=2))
    chunks = list(eng.stream(step2, params))
    assert eng.prefix_cache_stats["restored"] == before["restored"] + 1
    # a kept state is the KV state alone: Llama.save_state's copy of the scores rows (n_batch x
    # n_vocab floats, 311 MB here) was not counted by the cache's cap and grew an eval to 24 GB
    kept = list(eng._prefix_cache.cache_state.values())
    assert kept and all(s.scores.nbytes == 0 for s in kept)
    assert all(0 < s.llama_state_size == len(s.llama_state) for s in kept)
    n_step1 = len(eng.llama.tokenize(step1.encode(), False, True))
    assert n_step1 > 300 and chunks[-1].usage["cached_tokens"] >= n_step1 - 1
    warm = "".join(c.text for c in chunks)
    eng.reset_cache()
    cold = eng.generate(step2, params)
    assert cold.text == warm


def test_constraint_logits_processor_is_applied(default_engine) -> None:
    x = default_engine.tokenizer.encode_text("X")
    assert len(x) == 1

    class OnlyX:
        def llamacpp_logits_processor(self, llama):  # noqa: ANN001, ANN202
            def proc(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
                out = np.full_like(scores, -np.inf)
                out[x[0]] = 0.0
                return out

            return proc

    c = default_engine.generate(chatml("Say hello."), SamplingParams(max_tokens=4), constraint=OnlyX())
    assert c.text == "XXXX"


def test_concurrent_streams_are_serialised(default_engine) -> None:
    results: dict[int, str] = {}

    def run(k: int) -> None:
        results[k] = default_engine.generate(COUNT, SamplingParams(max_tokens=5)).text

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1] and results[0].replace(" ", "").startswith("1,2")


def test_seeded_sampling_is_reproducible(default_engine) -> None:
    p = SamplingParams(max_tokens=8, temperature=1.0, top_p=0.9, seed=1234)
    prompt = chatml("Invent a name for a cat.")
    default_engine.reset_cache()
    first = default_engine.generate(prompt, p).text
    default_engine.reset_cache()
    assert default_engine.generate(prompt, p).text == first
