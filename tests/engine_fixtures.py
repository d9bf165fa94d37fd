"""An in-process OpenAI-compatible server for the engine tests (the tiny model is in calltune.testing)."""

from __future__ import annotations

import json

import httpx


class EventStream(httpx.SyncByteStream):
    """A server-sent-event body that records how far it was read and whether it was closed."""

    def __init__(self, events: list[bytes]):
        self.events = events
        self.sent = 0
        self.closed = False

    def __iter__(self):  # noqa: ANN204 - a generator of bytes
        for e in self.events:
            self.sent += 1
            yield e

    def close(self) -> None:
        self.closed = True


class FakeOpenAIServer:
    """An OpenAI-compatible server answered in-process (``transport=server.transport()``).

    ``/v1/completions`` streams ``text`` one character (= one token) per event, up to
    ``max_tokens`` (finish "length") and ignores stop strings (the client cuts); a prompt
    of ``context_length`` characters or more is refused as too long. ``/tokenize`` counts
    characters; ``/v1/chat/completions`` answers ``chat_message``."""

    def __init__(self, text: str, context_length: int = 64, model: str = "fake-model"):
        self.text = text
        self.context_length = context_length
        self.model = model
        self.chat_message: dict = {"role": "assistant", "content": "hi"}
        self.requests: list[tuple[str, dict]] = []
        self.streams: list[EventStream] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        self.requests.append((path, body))
        if path == "/v1/models":
            return httpx.Response(
                200, json={"data": [{"id": self.model, "max_model_len": self.context_length}]}
            )
        if path == "/tokenize":
            return httpx.Response(200, json={"tokens": list(range(len(body["prompt"])))})
        if path == "/v1/chat/completions":
            return httpx.Response(
                200,
                json={
                    "choices": [{"index": 0, "message": self.chat_message, "finish_reason": "tool_calls"}],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 7},
                },
            )
        if path != "/v1/completions":
            return httpx.Response(404, json={"error": {"message": "not found"}})
        n_prompt = len(body["prompt"])
        if n_prompt >= self.context_length:
            msg = f"This model's maximum context length is {self.context_length} tokens"
            return httpx.Response(400, json={"error": {"message": msg}})
        pieces = list(self.text[: body["max_tokens"]])
        finish = "length" if len(pieces) == body["max_tokens"] else "stop"
        events = []
        for k, p in enumerate(pieces):
            choice = {"index": 0, "text": p, "finish_reason": finish if k == len(pieces) - 1 else None}
            events.append(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
        usage = {"prompt_tokens": n_prompt, "completion_tokens": len(pieces)}
        events.append(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
        events.append(b"data: [DONE]\n\n")
        stream = EventStream(events)
        self.streams.append(stream)
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, stream=stream)
