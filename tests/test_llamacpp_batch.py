"""The batching llama.cpp engine: concurrent requests decoded together, on a tiny real GGUF."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("transformers")

from calltune.engines.base import ContextLengthError, SamplingParams  # noqa: E402


@pytest.fixture(scope="module")
def engine(tiny_gguf: Path):
    from calltune.engines import load_engine

    eng = load_engine(str(tiny_gguf), parallel=3, n_ctx=4096, progress=False)
    yield eng
    eng.close()


PROMPTS = [
    f"<|im_start|>user\nitem {i}: add {i} and {i + 1}<|im_end|>\n<|im_start|>assistant\n" for i in range(7)
]


def test_the_loader_gives_the_batching_engine_and_it_decodes_requests_together(engine) -> None:
    from calltune.engines.llamacpp_batch import BatchedLlamaCppEngine

    assert isinstance(engine, BatchedLlamaCppEngine) and engine.parallel == 3 and engine.n_slots == 6
    params = SamplingParams(max_tokens=24)
    alone = [engine.generate(p, params).text for p in PROMPTS]
    engine.reset_cache()
    steps = engine.stats["steps"]
    with ThreadPoolExecutor(len(PROMPTS)) as ex:
        together = list(ex.map(lambda p: engine.generate(p, params), PROMPTS))
    assert engine.stats["max_running"] == 3  # never more than ``parallel`` at once
    # 7 requests × 24 tokens in far fewer steps than one at a time would take
    assert engine.stats["steps"] - steps < 7 * 24 * 0.6
    assert all(c.completion_tokens == 24 and c.finish_reason == "length" for c in together)
    same = sum(a == c.text for a, c in zip(alone, together, strict=True))
    assert same >= 6, (alone, [c.text for c in together])  # greedy: batched arithmetic may tip a near-tie


def test_a_follow_up_reads_only_its_new_tokens(engine) -> None:
    first = engine.generate(PROMPTS[0], SamplingParams(max_tokens=8))
    follow = PROMPTS[0] + first.text + "<|im_end|>\n<|im_start|>user\nand then?<|im_end|>\n"
    n_first = engine.count_tokens(PROMPTS[0])
    chunks = list(engine.stream(follow, SamplingParams(max_tokens=4)))
    assert chunks[-1].usage["cached_tokens"] >= n_first


def test_a_request_sent_beside_a_running_one_copies_its_prefix(engine) -> None:
    """Two requests over one long system prompt sent at once: the second takes the first's
    evaluated prefix (llama.cpp's cross-cache sequence copy) instead of reading it again, and
    answers as it would alone."""
    system = "<|im_start|>system\n" + "Tools: add, subtract, multiply, divide, round. " * 12 + "<|im_end|>\n"
    first = system + "<|im_start|>user\nadd 2 and 3<|im_end|>\n<|im_start|>assistant\n"
    second = system + "<|im_start|>user\nround 7.5<|im_end|>\n<|im_start|>assistant\n"
    n_system = engine.count_tokens(system)
    assert n_system > 64
    engine.reset_cache()
    alone = engine.generate(second, SamplingParams(max_tokens=12))
    engine.reset_cache()
    copied = engine.stats["copied_tokens"]
    started = threading.Event()

    def long_first() -> None:
        for _ in engine.stream(first, SamplingParams(max_tokens=60)):
            started.set()

    t = threading.Thread(target=long_first)
    t.start()
    assert started.wait(60)  # the first one is decoding: its prompt is in its slot
    chunks = list(engine.stream(second, SamplingParams(max_tokens=12)))
    t.join(60)
    assert engine.stats["copied_tokens"] - copied >= n_system - 2
    assert chunks[-1].usage["cached_tokens"] >= n_system - 2
    assert "".join(c.text for c in chunks) == alone.text


def test_stop_strings_and_closed_streams_free_their_slots(engine) -> None:
    # more early-ending requests than slots: each must give its slot back or the rest would hang
    def stopped(i: int) -> str:
        it = engine.stream(PROMPTS[i % len(PROMPTS)], SamplingParams(max_tokens=50))
        first = next(it)
        it.close()  # the client went away
        return first.text

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(stopped, range(14)))
    done = engine.generate(PROMPTS[1], SamplingParams(max_tokens=5))
    assert done.completion_tokens == 5


def test_guided_decoding_holds_per_sequence(engine) -> None:
    from calltune.guided import build_constraint

    tools = [
        {
            "type": "function",
            "function": {
                "name": "pick",
                "parameters": {
                    "type": "object",
                    "properties": {"colour": {"type": "string", "enum": ["red", "blue"]}},
                    "required": ["colour"],
                },
            },
        }
    ]
    constraints = [build_constraint("hermes", tools, "required") for _ in range(4)]

    def run(c):
        return engine.generate(PROMPTS[2], SamplingParams(max_tokens=60), c)

    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(run, constraints))
    for c, out in zip(constraints, outs, strict=True):
        assert out.text.lstrip().startswith("<tool_call>")
        assert c.matches(out.text, complete=out.finish_reason == "stop"), out.text


def test_each_sequence_has_the_whole_window(tiny_gguf: Path) -> None:
    from calltune.engines import load_engine

    eng = load_engine(str(tiny_gguf), parallel=2, n_ctx=256, progress=False)
    try:
        assert eng.context_length == 256 and eng.n_slots == 4
        prompt = "<|im_start|>user\n" + "word " * 40 + "<|im_end|>\n"
        n = eng.count_tokens(prompt)
        params = SamplingParams(max_tokens=1000)  # capped to what is left of the window
        with ThreadPoolExecutor(2) as ex:
            outs = list(ex.map(lambda _: eng.generate(prompt, params), range(2)))
        assert [o.completion_tokens for o in outs] == [256 - n] * 2
        assert all(o.finish_reason == "length" for o in outs)
        with pytest.raises(ContextLengthError):
            eng.generate(prompt * 8, params)
    finally:
        eng.close()


def test_close_fails_waiting_requests_clearly(tiny_gguf: Path) -> None:
    from calltune.engines import load_engine
    from calltune.engines.base import EngineError

    eng = load_engine(str(tiny_gguf), parallel=2, n_ctx=512, progress=False)
    errors: list[BaseException] = []
    started = threading.Event()

    def long_one() -> None:
        try:
            for _ in eng.stream(PROMPTS[0], SamplingParams(max_tokens=400)):
                started.set()
        except EngineError as e:
            errors.append(e)

    t = threading.Thread(target=long_one)
    t.start()
    assert started.wait(60)
    eng.close()
    t.join(60)
    assert not t.is_alive() and errors and "closed" in str(errors[0])


def _reader(eng, prompt: str, errors: list[BaseException], started: threading.Event) -> threading.Thread:
    """A thread streaming ``prompt`` that sets ``started`` at its first chunk and keeps the
    EngineError it ends with."""
    from calltune.engines.base import EngineError

    def read() -> None:
        try:
            for _ in eng.stream(prompt, SamplingParams(max_tokens=600)):
                started.set()
        except EngineError as e:
            errors.append(e)

    t = threading.Thread(target=read)
    t.start()
    return t


def test_the_plain_engine_closed_under_a_reader_stops_it_and_frees_the_model_after(tiny_gguf: Path) -> None:
    """Closing the one-sequence engine while another thread decodes used to free the model under
    that decode (a segfault); now the reader stops with an EngineError, then the model is freed,
    and a request waiting for the engine fails clearly too."""
    from calltune.engines import load_engine
    from calltune.engines.base import EngineError
    from calltune.engines.llamacpp import LlamaCppEngine

    eng = load_engine(str(tiny_gguf), n_ctx=1024, progress=False)
    assert type(eng) is LlamaCppEngine
    errors: list[BaseException] = []
    started = threading.Event()

    first = _reader(eng, PROMPTS[0], errors, started)
    assert started.wait(60)
    waiting = _reader(eng, PROMPTS[1], errors, started)
    eng.close()
    assert eng.llama is not None  # not freed under the running decode
    first.join(60)
    waiting.join(60)
    assert not first.is_alive() and not waiting.is_alive()
    assert len(errors) == 2 and all("closed" in str(e) for e in errors)
    assert eng.llama is None  # freed once the reader left
    with pytest.raises(EngineError, match="closed"):
        eng.generate(PROMPTS[2], SamplingParams(max_tokens=4))
    eng.close()  # twice is harmless


def test_a_close_waits_for_a_request_still_tokenizing_outside_the_lock(tiny_gguf: Path) -> None:
    """A request tokenizes (and builds its constraint) before it takes the decode lock. A close
    while it does so, with the running decode leaving meanwhile, must not free the model under
    the tokenizer: the last one out frees it, and the late request fails as closed."""
    from calltune.engines import load_engine

    eng = load_engine(str(tiny_gguf), n_ctx=1024, progress=False)
    errors: list[BaseException] = []
    started, entered, release = threading.Event(), threading.Event(), threading.Event()
    tokenize = eng._prompt_ids

    def slow_tokenize(prompt):
        if prompt == PROMPTS[1]:
            entered.set()
            release.wait(60)
        return tokenize(prompt)

    eng._prompt_ids = slow_tokenize

    first = _reader(eng, PROMPTS[0], errors, started)
    assert started.wait(60)
    late = _reader(eng, PROMPTS[1], errors, started)
    assert entered.wait(60)
    eng.close()
    first.join(60)
    assert not first.is_alive() and len(errors) == 1
    assert eng.llama is not None  # the late request is still tokenizing with it
    release.set()
    late.join(60)
    assert not late.is_alive()
    assert len(errors) == 2 and all("closed" in str(e) for e in errors)
    assert eng.llama is None


def test_the_server_runner_gives_a_batching_engine_parallel_requests(engine) -> None:
    import asyncio

    from calltune.server.streaming import EngineRunner

    runner = EngineRunner(engine)
    assert runner.slots == 3
    before = engine.stats["max_running"]
    engine.stats["max_running"] = 0

    async def one(p: str) -> int:
        return sum([1 async for _ in runner.stream(p, SamplingParams(max_tokens=40))])

    async def main() -> list[int]:
        return await asyncio.gather(*(one(p) for p in PROMPTS[:3]))

    assert all(n > 0 for n in asyncio.run(main()))
    assert engine.stats["max_running"] == 3
    engine.stats["max_running"] = max(before, 3)


def test_parallel_kwargs_only_for_gguf_models(tiny_gguf: Path) -> None:
    from calltune.cli_options import parallel_kwargs

    assert parallel_kwargs(str(tiny_gguf), None, 4) == {"parallel": 4}
    assert parallel_kwargs(str(tiny_gguf), None, 1) == {}
    assert parallel_kwargs("http://127.0.0.1:9/v1", None, 4) == {}  # a server batches on its own
