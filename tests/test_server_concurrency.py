"""One engine, many clients: queued, never mixed up; a client that leaves frees the engine at once."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from calltune.engines import Chunk, Engine, SamplingParams
from calltune.engines.scripted import CharTokenizer
from calltune.testing import WEATHER, served
from calltune.testing import hermes_call as call_text


class SlowEngine(Engine):
    """Emits ``n`` chunks ``delay`` seconds apart. Records closure and how many generations overlap.
    With ``echo``, answers with a weather call for the city in the last user message."""

    def __init__(self, n: int = 400, delay: float = 0.02, echo: bool = False) -> None:
        self.model_id = "slow"
        self.default_format = "hermes"
        self.context_length = 32768
        self.tokenizer = CharTokenizer()
        self.n, self.delay, self.echo = n, delay, echo
        self.closed = threading.Event()
        self.produced: list[int] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def stream(self, prompt: Any, params: SamplingParams, constraint: Any = None) -> Iterator[Chunk]:
        text = prompt if isinstance(prompt, str) else self.tokenizer.decode(prompt)
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        produced = 0
        try:
            if self.echo:
                city = re.findall(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", text, re.S)[-1]
                out = call_text("get_current_weather", {"location": city})
                pieces = [out[i : i + 4] for i in range(0, len(out), 4)]
            else:
                pieces = ["tok "] * self.n
            for i, p in enumerate(pieces):
                time.sleep(self.delay)
                produced += 1
                last = i == len(pieces) - 1
                yield Chunk(
                    p,
                    finish_reason="stop" if last else None,
                    usage={"prompt_tokens": len(text), "completion_tokens": produced} if last else None,
                )
        finally:
            with self._lock:
                self.active -= 1
            self.produced.append(produced)
            self.closed.set()


def test_disconnect_mid_stream_frees_the_engine_at_once() -> None:
    engine = SlowEngine(n=500, delay=0.02)  # 10 s if nobody stops it
    with served(engine) as (_, _client, srv):
        body = {"model": "m", "messages": [{"role": "user", "content": "go"}], "stream": True}
        seen = 0
        with httpx.stream("POST", srv.base_url + "/v1/chat/completions", json=body, timeout=10) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and '"content":"tok' in line.replace(" ", ""):
                    seen += 1
                    if seen == 5:
                        break
        t0 = time.monotonic()
        assert engine.closed.wait(2.0), "the engine iterator was not closed after the client left"
        stopped_after = time.monotonic() - t0
        assert stopped_after < 1.0
        assert engine.produced[0] < 100  # generation stopped long before the 500 chunks
        # the engine is free: the next request is served right away
        engine.n = 3
        t0 = time.monotonic()
        r = httpx.post(srv.base_url + "/v1/chat/completions", json={**body, "stream": False}, timeout=10)
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "tok tok tok "
        assert time.monotonic() - t0 < 2.0
        assert httpx.get(srv.base_url + "/health").json()["queue"]["cancelled"] == 1


def test_disconnect_of_a_non_streamed_request_frees_the_engine() -> None:
    engine = SlowEngine(n=500, delay=0.02)
    with served(engine) as (_, _client, srv):
        body = {"model": "m", "messages": [{"role": "user", "content": "go"}]}
        try:
            httpx.post(srv.base_url + "/v1/chat/completions", json=body, timeout=0.5)
        except httpx.ReadTimeout:
            pass
        assert engine.closed.wait(2.0)
        assert engine.produced[0] < 100


def test_concurrent_clients_get_their_own_answers_one_generation_at_a_time() -> None:
    engine = SlowEngine(delay=0.002, echo=True)
    cities = ["Paris", "Oslo", "Lima", "Hanoi", "Quito", "Perth", "Tunis", "Riga", "Accra", "Baku"]
    with served(engine) as (_, client, _srv):

        def ask(i: int) -> tuple[str, str]:
            msgs = [{"role": "user", "content": cities[i]}]
            if i % 2:
                chunks = client.chat.completions.create(
                    model="m", messages=msgs, tools=[WEATHER], stream=True
                )
                args = "".join(
                    tc.function.arguments or ""
                    for c in chunks
                    for tc in (c.choices[0].delta.tool_calls or [])
                )
            else:
                r = client.chat.completions.create(model="m", messages=msgs, tools=[WEATHER])
                args = r.choices[0].message.tool_calls[0].function.arguments
            return cities[i], json.loads(args)["location"]

        with ThreadPoolExecutor(len(cities)) as pool:
            results = list(pool.map(ask, range(len(cities))))
    assert [asked for asked, _ in results] == [got for _, got in results] == cities
    assert engine.max_active == 1
    assert len(engine.produced) == len(cities)
