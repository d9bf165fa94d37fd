"""The OpenAI-compatible remote engine against a stub server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from engine_fixtures import FakeOpenAIServer

from calltune.engines import ContextLengthError, EngineError, SamplingParams, load_engine
from calltune.engines.openai_remote import (
    OpenAIRemoteEngine,
    normalize_base_url,
    parse_chat_message,
    parse_chat_response,
)


class Stub:
    """What the stub server answers; tests change these fields."""

    def __init__(self) -> None:
        self.pieces: list[str] = ["Hel", "lo", " <|obs", "ervation|>", " after"]
        self.apply_stop = False  # cut at the stop strings like a real server
        self.stop_reason = False  # report which one (vLLM's stop_reason)
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.chat_message: dict[str, Any] = {"role": "assistant", "content": "hi"}
        self.fail: tuple[int, str] | None = None


def make_handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, code: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            stub.requests.append(("GET " + self.path, {}, dict(self.headers)))
            if self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": "stub-model", "max_model_len": 4096}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stub.requests.append(("POST " + self.path, body, dict(self.headers)))
            if stub.fail:
                self._json(stub.fail[0], {"error": {"message": stub.fail[1]}})
                return
            if self.path == "/tokenize":
                self._json(200, {"tokens": list(range(len(body["prompt"].split())))})
            elif self.path == "/v1/completions":
                self._completions(body)
            elif self.path == "/v1/chat/completions":
                self._json(
                    200,
                    {
                        "choices": [
                            {"index": 0, "message": stub.chat_message, "finish_reason": "tool_calls"}
                        ],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 7},
                    },
                )
            else:
                self._json(404, {"error": {"message": "not found"}})

        def _completions(self, body: dict[str, Any]) -> None:
            pieces, reason, hit = list(stub.pieces), "length", None
            if stub.apply_stop and body.get("stop"):
                text = "".join(pieces)
                cuts = [(text.find(s), s) for s in body["stop"] if s in text]
                if cuts:
                    j, hit = min(cuts)
                    pieces, reason = [text[:j]], "stop"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for k, p in enumerate(pieces):
                choice: dict[str, Any] = {"index": 0, "text": p, "finish_reason": None}
                if k == len(pieces) - 1:
                    choice["finish_reason"] = reason
                    if stub.stop_reason:
                        choice["stop_reason"] = hit
                self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
                self.wfile.flush()
            usage = {"prompt_tokens": 5, "completion_tokens": len(pieces)}
            self.wfile.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Stub]]:
    stub = Stub()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(stub))
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", stub
    httpd.shutdown()
    httpd.server_close()


def test_load_engine_openai_url_reads_model_and_context(server: tuple[str, Stub]) -> None:
    url, stub = server
    eng = load_engine(f"openai:{url}/v1")
    assert isinstance(eng, OpenAIRemoteEngine)
    assert (eng.model_id, eng.context_length, eng.base_url) == ("stub-model", 4096, f"{url}/v1")
    eng.close()


def test_stop_matched_client_side_when_server_ignores_it(server: tuple[str, Stub]) -> None:
    url, stub = server
    eng = OpenAIRemoteEngine(url)
    chunks = list(eng.stream("PROMPT", SamplingParams(max_tokens=9, stop=["<|user|>", "<|observation|>"])))
    assert "".join(c.text for c in chunks) == "Hello "
    last = chunks[-1]
    assert (last.finish_reason, last.stop) == ("stop", "<|observation|>")
    assert set(last.usage or {}) >= {"prompt_tokens", "completion_tokens", "prefill_s", "decode_s"}
    # the response was closed before the server's usage came: the prompt is counted by /tokenize
    assert last.usage["prompt_tokens"] == 1 and stub.requests[-1][0] == "POST /tokenize"
    _, body, _ = next(r for r in reversed(stub.requests) if r[0] == "POST /v1/completions")
    assert body["prompt"] == "PROMPT" and body["stream"] is True and body["max_tokens"] == 9
    assert body["stop"] == ["<|user|>", "<|observation|>"] and body["model"] == "stub-model"


def test_stop_reported_by_server(server: tuple[str, Stub]) -> None:
    url, stub = server
    stub.apply_stop, stub.stop_reason = True, True
    eng = OpenAIRemoteEngine(url)
    c = eng.generate([1, 2, 3], SamplingParams(stop=["<|user|>", "<|observation|>"]))
    assert (c.text, c.finish_reason, c.stop) == ("Hello ", "stop", "<|observation|>")
    assert (c.prompt_tokens, c.completion_tokens) == (5, 1)
    assert stub.requests[-1][1]["prompt"] == [1, 2, 3]


def test_length_finish_and_no_stop(server: tuple[str, Stub]) -> None:
    url, stub = server
    stub.pieces = ["a", "b", "c"]
    c = OpenAIRemoteEngine(url).generate("p", SamplingParams(max_tokens=3, seed=7, temperature=0.5))
    assert (c.text, c.finish_reason, c.stop) == ("abc", "length", None)
    body = stub.requests[-1][1]
    assert (body["seed"], body["temperature"]) == (7, 0.5)


def test_api_key_from_env_and_base_url_from_env(
    server: tuple[str, Stub], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, stub = server
    monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    eng = OpenAIRemoteEngine()
    assert eng.base_url == url + "/v1"
    assert stub.requests[-1][2]["Authorization"] == "Bearer sk-test"


def test_chat_returns_parse_result(server: tuple[str, Stub]) -> None:
    url, stub = server
    stub.chat_message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_time", "arguments": '{"tz": "UTC"}'},
            },
            {"id": "call_2", "type": "function", "function": {"name": "broken", "arguments": "{oops"}},
        ],
    }
    eng = OpenAIRemoteEngine(url)
    tools = [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]
    result, usage = eng.chat([{"role": "user", "content": "time?"}], tools, "named:get_time")
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("call_1", "get_time", {"tz": "UTC"})]
    assert [e.name for e in result.errors] == ["broken"]
    assert result.content == ""
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["finish_reason"]) == (
        12,
        7,
        "tool_calls",
    )
    body = stub.requests[-1][1]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}
    assert body["tools"] == tools and body["messages"] == [{"role": "user", "content": "time?"}]


def test_errors_are_clear(server: tuple[str, Stub]) -> None:
    url, stub = server
    eng = OpenAIRemoteEngine(url)
    stub.fail = (400, "This model's maximum context length is 4096 tokens")
    with pytest.raises(ContextLengthError, match="maximum context length"):
        eng.generate("p", SamplingParams())
    stub.fail = (500, "boom")
    with pytest.raises(EngineError, match="HTTP 500: boom"):
        eng.chat([{"role": "user", "content": "x"}])
    with pytest.raises(EngineError, match="cannot apply a local guided-decoding constraint"):
        eng.stream("p", SamplingParams(), constraint=object())
    with pytest.raises(EngineError, match="cannot reach the server"):
        OpenAIRemoteEngine("http://127.0.0.1:1/v1")


def test_count_tokens_uses_server_tokenize(server: tuple[str, Stub]) -> None:
    url, stub = server
    eng = OpenAIRemoteEngine(url)
    assert eng.count_tokens("one two three") == 3
    assert eng.count_tokens([5, 6]) == 2


def test_helpers() -> None:
    assert normalize_base_url("http://h:1") == "http://h:1/v1"
    assert normalize_base_url("http://h:1/v1/") == "http://h:1/v1"
    with pytest.raises(EngineError, match="not an http"):
        normalize_base_url("h:1")
    legacy = parse_chat_message({"content": "x", "function_call": {"name": "f", "arguments": "{}"}})
    assert (legacy.content, [c.name for c in legacy.tool_calls]) == ("x", ["f"])


def test_chat_completion_through_a_transport_returns_the_raw_message() -> None:
    server = FakeOpenAIServer("unused")
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    server.chat_message = {"role": "assistant", "content": "ok", "tool_calls": [call]}
    eng = OpenAIRemoteEngine("http://fake.invalid", api_key="", transport=server.transport())
    assert (eng.model_id, eng.context_length) == ("fake-model", 64)
    reply = eng.chat_completion([{"role": "user", "content": "q"}], params=SamplingParams(max_tokens=3))
    assert reply.message == server.chat_message and reply.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in reply.result.tool_calls] == [("c1", "f", {"a": 1})]
    assert (reply.usage["prompt_tokens"], reply.usage["completion_tokens"]) == (12, 7)
    assert reply.usage["latency_s"] >= 0
    path, body = server.requests[-1]
    assert path == "/v1/chat/completions" and body["max_tokens"] == 3 and "tools" not in body


def test_parse_chat_response() -> None:
    reply = parse_chat_response(
        {
            "choices": [
                {
                    "message": {
                        "content": None,
                        "tool_calls": [
                            {"function": {"name": "no_args"}},
                            {"function": {"name": "empty", "arguments": ""}},
                            {"function": {"name": "listed", "arguments": "[1]"}},
                        ],
                    },
                    "finish_reason": None,
                }
            ],
            "usage": {"prompt_tokens": None},
        }
    )
    # missing or empty arguments mean no arguments; a JSON value that is not an object is an error
    assert [(c.name, c.arguments) for c in reply.result.tool_calls] == [("no_args", {}), ("empty", {})]
    assert [(e.name, e.message) for e in reply.result.errors] == [
        ("listed", "arguments are not a JSON object")
    ]
    assert (reply.result.content, reply.finish_reason, reply.usage) == (
        "",
        None,
        {"prompt_tokens": 0, "completion_tokens": 0},
    )
    with pytest.raises(EngineError, match="no choices"):
        parse_chat_response({"choices": []})


def test_llama_cpp_native_baseline_reads_the_response_like_the_remote_engine() -> None:
    from calltune.eval.baselines import LlamaCppNativeSystem

    tool_calls = [{"id": "x", "function": {"name": "f", "arguments": "{oops"}}]

    class FakeLlama:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def create_chat_completion(self, **kw: Any) -> dict[str, Any]:
            self.calls.append(kw)
            msg = {"role": "assistant", "content": None, "tool_calls": tool_calls}
            return {
                "choices": [{"message": msg, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 4},
            }

    llama = FakeLlama()
    out = LlamaCppNativeSystem(llama, max_tokens=9).answer([{"role": "user", "content": "q"}], [{"t": 1}])
    assert llama.calls[0]["tool_choice"] == "auto" and llama.calls[0]["max_tokens"] == 9
    assert out.calls == [] and [e["name"] for e in out.parse_errors] == ["f"]
    assert out.parse_errors[0]["message"].startswith("arguments are not valid JSON")
    assert out.raw == json.dumps(tool_calls)
    assert (out.prompt_tokens, out.completion_tokens, out.finish_reason) == (4, 0, "tool_calls")


def test_concurrent_requests_are_in_flight_together():
    """A server batches concurrent requests: the engine must not send them one at a time (a
    teacher behind vLLM with --concurrency 16 ran one request at a time). The transport lets no
    /completions request finish before two are in flight; one at a time, the barrier breaks."""
    import httpx

    server = FakeOpenAIServer("ok", context_length=4096)
    barrier = threading.Barrier(2, timeout=5)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/v1/completions", "/v1/chat/completions"):
            barrier.wait()
        return server.handle(request)

    eng = OpenAIRemoteEngine("http://127.0.0.1:9/v1", transport=httpx.MockTransport(handle))
    out: list[str] = []
    errors: list[BaseException] = []

    def one(chat: bool) -> None:
        try:
            if chat:
                out.append(eng.chat([{"role": "user", "content": "hi"}])[0].content)
            else:
                out.append(eng.generate("hello", SamplingParams(max_tokens=2)).text)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    for chat in (False, True):
        threads = [threading.Thread(target=one, args=(chat,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        barrier.reset()
    assert not errors, errors
    assert sorted(out) == ["hi", "hi", "ok", "ok"]
