"""The decode loop shared by the local engines, on a backend that replays a token script."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from calltune.engines import EngineError, SamplingParams
from calltune.engines.decode import LocalEngine
from calltune.engines.scripted import CharTokenizer
from calltune.engines.stops import SequenceDecoder, TextDecoder

EOG = 0  # the end-of-generation token; every other token is a code point


class ReplayEngine(LocalEngine):
    """Tokens are code points of ``script`` (then end-of-generation forever); the first
    ``cached`` prompt tokens are reported as coming from a cache."""

    constraint_hook = "replay_hook"

    def __init__(self, script: str, *, eog: bool = True, context_length: int = 64, cached: int = 2):
        self.script = [ord(c) for c in script]
        self.eog = eog
        self.context_length = context_length
        self.cached = cached
        self.tokenizer = CharTokenizer()
        self._lock = threading.Lock()
        self.starts: list[tuple[list[int], Any]] = []
        self.pulled = 0
        self.closed = False

    def _prompt_ids(self, prompt: str | list[int]) -> list[int]:
        ids = list(prompt) if isinstance(prompt, list) else self.tokenizer.encode_text(prompt)
        if not ids:
            raise EngineError("empty prompt")
        return ids

    def start_decoding(
        self, ids: list[int], params: SamplingParams, processor: Any
    ) -> tuple[Iterator[int], int]:
        self.starts.append((ids, processor))
        self.pulled, self.closed = 0, False

        def tokens() -> Iterator[int]:
            try:
                for t in self.script:
                    self.pulled += 1
                    yield t
                while self.eog:
                    self.pulled += 1
                    yield EOG
            finally:
                self.closed = True

        return tokens(), min(self.cached, len(ids))

    def is_eog(self, token: int) -> bool:
        return token == EOG

    def token_text(self, token: int) -> str:
        return "<eos>" if token == EOG else chr(token)

    def text_decoder(self) -> TextDecoder:
        return SequenceDecoder(lambda ids: "".join(chr(i) for i in ids))

    def _call_constraint_hook(self, hook: Callable[..., Any]) -> Any:
        return hook("the model")


def test_budget_ends_with_length_and_pulls_no_extra_token() -> None:
    eng = ReplayEngine("abcdefghij", eog=False)
    chunks = list(eng.stream("prompt", SamplingParams(max_tokens=4)))
    assert "".join(c.text for c in chunks) == "abcd"
    last = chunks[-1]
    assert (last.finish_reason, last.stop) == ("length", None)
    assert last.usage is not None and set(last.usage) == {
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "prefill_s",
        "decode_s",
    }
    assert (last.usage["prompt_tokens"], last.usage["completion_tokens"], last.usage["cached_tokens"]) == (
        6,
        4,
        2,
    )
    assert eng.pulled == 4 and eng.closed


def test_the_context_window_caps_the_budget() -> None:
    eng = ReplayEngine("abcdefghij", eog=False, context_length=9)
    c = eng.generate("prompt", SamplingParams(max_tokens=100))
    assert (c.text, c.finish_reason, c.completion_tokens) == ("abc", "length", 3)


def test_max_tokens_zero_does_not_start_the_model() -> None:
    eng = ReplayEngine("abc")
    c = eng.generate("p", SamplingParams(max_tokens=0))
    assert (c.text, c.finish_reason, c.completion_tokens, eng.starts) == ("", "length", 0, [])


def test_stop_string_across_tokens_is_held_back_and_reported() -> None:
    eng = ReplayEngine("Hello<|end|>world")
    chunks = list(eng.stream("p", SamplingParams(max_tokens=50, stop=["<|end|>", "never"])))
    assert [c.text for c in chunks[:-1]] == list("Hello")  # "<", "<|", ... were never sent
    assert (chunks[-1].text, chunks[-1].finish_reason, chunks[-1].stop) == ("", "stop", "<|end|>")
    assert chunks[-1].usage["completion_tokens"] == len("Hello<|end|>")
    assert eng.closed and eng.pulled == len("Hello<|end|>")


def test_held_back_text_is_released_when_generation_ends() -> None:
    c = ReplayEngine("ab<|en", eog=False).generate("p", SamplingParams(max_tokens=6, stop=["<|end|>"]))
    assert (c.text, c.finish_reason, c.stop) == ("ab<|en", "length", None)


def test_end_of_generation_token() -> None:
    eng = ReplayEngine("hi")
    c = eng.generate("p", SamplingParams(max_tokens=50))
    assert (c.text, c.finish_reason, c.stop, c.completion_tokens) == ("hi", "stop", None, 3)
    # an end-of-generation token whose text is a stop string is reported as that stop
    c = eng.generate("p", SamplingParams(max_tokens=50, stop=["<eos>"]))
    assert (c.text, c.finish_reason, c.stop) == ("hi", "stop", "<eos>")


def test_closing_the_stream_stops_and_frees_the_engine() -> None:
    eng = ReplayEngine("x" * 40)
    it = eng.stream("p", SamplingParams(max_tokens=40))
    assert next(it).text == "x" and eng._lock.locked()
    it.close()
    assert eng.closed and eng.pulled == 1 and not eng._lock.locked()


def test_last_chunk_comes_after_the_lock_is_released() -> None:
    eng = ReplayEngine("abc")
    for chunk in eng.stream("p", SamplingParams(max_tokens=10)):
        assert eng._lock.locked() is (chunk.finish_reason is None)


def test_constraint_hooks() -> None:
    eng = ReplayEngine("ab")
    seen: list[Any] = []

    class ForEngine:
        def logits_processor_for(self, engine: Any) -> str:
            seen.append(engine)
            return "processor-for"

    class EngineHookOnly:
        def replay_hook(self, model: Any) -> str:
            seen.append(model)
            return "processor-hook"

    eng.generate("p", SamplingParams(max_tokens=2), constraint=ForEngine())
    eng.generate("p", SamplingParams(max_tokens=2), constraint=EngineHookOnly())
    eng.generate("p", SamplingParams(max_tokens=2))
    assert seen == [eng, "the model"]
    assert [p for _, p in eng.starts] == ["processor-for", "processor-hook", None]
    with pytest.raises(EngineError, match=r"logits_processor_for\(engine\) or replay_hook"):
        eng.stream("p", SamplingParams(), constraint=object())  # at once, not on the first read


def test_prompt_checks_happen_before_streaming() -> None:
    eng = ReplayEngine("ab", context_length=4)
    with pytest.raises(EngineError, match="context window is 4"):
        eng.stream("abcd", SamplingParams())
    with pytest.raises(EngineError, match="empty prompt"):
        eng.stream("", SamplingParams())
    assert eng.count_tokens("abc") == 3 and eng.starts == []
