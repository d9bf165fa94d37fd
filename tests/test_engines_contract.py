"""The engine contract (calltune/engines/base.py), checked the same way on every engine:
ScriptedEngine, the remote engine against an in-process OpenAI-compatible server, the
transformers engine on a tiny random model, and llama.cpp on the real default model
(marked ``model``; short: at most 8 new tokens per request)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from engine_fixtures import FakeOpenAIServer

from calltune.engines import Chunk, ContextLengthError, Engine, SamplingParams, ScriptedEngine
from calltune.testing.models import build_tiny_model

MAX = 8  # new tokens per request (the real model is slow on a CPU)
TEXT = "The quick brown fox jumps over the lazy dog, twice over."


@dataclass
class Subject:
    engine: Engine
    prompt: str
    #: asserts that nothing was generated after the stream was closed early
    stopped_early: Callable[[], None]


def _scripted() -> Subject:
    eng = ScriptedEngine([TEXT], cycle=True, context_length=64)
    return Subject(eng, "say something", lambda: None)


def _remote() -> Subject:
    from calltune.engines.openai_remote import OpenAIRemoteEngine

    server = FakeOpenAIServer(TEXT, context_length=64)
    eng = OpenAIRemoteEngine("http://fake.invalid/v1", api_key="", transport=server.transport())

    def stopped_early() -> None:
        last = server.streams[-1]
        assert last.closed and last.sent < len(last.events)

    return Subject(eng, "say something", stopped_early)


def _transformers(tmp_path_factory: pytest.TempPathFactory) -> Subject:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from calltune.engines.hf import TransformersEngine

    eng = TransformersEngine(
        build_tiny_model(tmp_path_factory.mktemp("tiny")),
        device="cpu",
        dtype="float32",
        default_format="hermes",
    )
    n_prompt = eng.count_tokens("hello")

    def stopped_early() -> None:
        # the kept KV cache holds the prompt and the few tokens sampled before the close
        assert len(eng._cache_ids) <= n_prompt + 3

    return Subject(eng, "hello", stopped_early)


def _llamacpp(default_engine: Engine) -> Subject:
    prompt = "<|im_start|>user\nCount from 1 to 20, separated by commas.<|im_end|>\n<|im_start|>assistant\n"
    n_prompt = default_engine.count_tokens(prompt)

    def stopped_early() -> None:
        assert default_engine.llama.n_tokens <= n_prompt + 3  # type: ignore[attr-defined]

    return Subject(default_engine, prompt, stopped_early)


@pytest.fixture(
    scope="module",
    params=["scripted", "remote", "transformers", pytest.param("llamacpp", marks=pytest.mark.model)],
)
def subject(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subject]:
    if request.param == "scripted":
        s = _scripted()
    elif request.param == "remote":
        s = _remote()
    elif request.param == "transformers":
        s = _transformers(tmp_path_factory)
    else:
        s = _llamacpp(request.getfixturevalue("default_engine"))
    yield s
    if request.param != "llamacpp":  # the session fixture closes the default engine
        s.engine.close()


def _fresh(engine: Engine) -> Engine:
    """The engine with its prompt cache dropped, so repeated requests compute the same way."""
    reset = getattr(engine, "reset_cache", None)
    if reset is not None:
        reset()
    return engine


def _chunks(s: Subject, params: SamplingParams) -> list[Chunk]:
    return list(_fresh(s.engine).stream(s.prompt, params))


def _check_last_chunk(chunks: list[Chunk]) -> None:
    assert chunks and all(c.finish_reason is None for c in chunks[:-1])
    usage = chunks[-1].usage
    assert usage is not None
    assert isinstance(usage["prompt_tokens"], int) and usage["prompt_tokens"] > 0
    assert isinstance(usage["completion_tokens"], int)
    assert all(v >= 0 for k, v in usage.items() if k.endswith("_s"))


def test_max_tokens_ends_with_length(subject: Subject) -> None:
    chunks = _chunks(subject, SamplingParams(max_tokens=MAX))
    _check_last_chunk(chunks)
    last = chunks[-1]
    assert (last.finish_reason, last.stop, last.usage["completion_tokens"]) == ("length", None, MAX)


def test_stop_string_ends_the_text_and_is_reported_last(subject: Subject) -> None:
    full = "".join(c.text for c in _chunks(subject, SamplingParams(max_tokens=MAX)))
    stop = full[3:5]  # out of what the engine writes anyway, likely across a token boundary
    assert len(stop) == 2
    chunks = _chunks(subject, SamplingParams(max_tokens=MAX, stop=["\x00never", stop]))
    _check_last_chunk(chunks)
    text = "".join(c.text for c in chunks)
    assert text == full[: full.find(stop)] and stop not in text
    assert (chunks[-1].finish_reason, chunks[-1].stop) == ("stop", stop)


def test_generate_equals_the_joined_stream(subject: Subject) -> None:
    params = SamplingParams(max_tokens=MAX)
    chunks = _chunks(subject, params)
    done = _fresh(subject.engine).generate(subject.prompt, params)
    last = chunks[-1]
    assert done.text == "".join(c.text for c in chunks)
    assert (done.finish_reason, done.stop) == (last.finish_reason, last.stop)
    assert (done.prompt_tokens, done.completion_tokens) == (
        last.usage["prompt_tokens"],
        last.usage["completion_tokens"],
    )
    assert done.timings.keys() == {k for k in last.usage if k.endswith("_s")}


def test_count_tokens_is_what_the_engine_reports(subject: Subject) -> None:
    n = subject.engine.count_tokens(subject.prompt)
    assert n > 0
    assert _fresh(subject.engine).generate(subject.prompt, SamplingParams(max_tokens=1)).prompt_tokens == n
    assert subject.engine.count_tokens([1, 2, 3]) >= 3


def test_closing_the_stream_stops_generation(subject: Subject) -> None:
    it = _fresh(subject.engine).stream(subject.prompt, SamplingParams(max_tokens=MAX))
    first = next(it)
    assert first.finish_reason is None
    it.close()
    with pytest.raises(StopIteration):
        next(it)
    subject.stopped_early()
    # and the engine is free for the next request
    assert subject.engine.generate(subject.prompt, SamplingParams(max_tokens=2)).completion_tokens == 2


def test_over_long_prompt_is_a_context_length_error(subject: Subject) -> None:
    eng = subject.engine
    eng.check_context(1)
    with pytest.raises(ContextLengthError):
        eng.check_context(eng.context_length)
    too_long = "hello " * (eng.context_length + 1)
    with pytest.raises(ContextLengthError):
        list(eng.stream(too_long, SamplingParams(max_tokens=1)))
