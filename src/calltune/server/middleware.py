"""Pure-ASGI middleware of the server: a request body limit and bearer-token auth.

Pure ASGI (not Starlette's BaseHTTPMiddleware), so client disconnects stay visible to the app.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .schemas import error_body


class BodyLimitMiddleware:
    """Rejects request bodies over ``max_bytes`` with 413 and an OpenAI error body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return
        body = bytearray()
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if len(body) > self.max_bytes:
                await self._reject(send)
                return
            if not msg.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        msg = f"request body is larger than the limit of {self.max_bytes} bytes"
        await _send_json(send, 413, error_body(msg, code="request_too_large"))


class AuthMiddleware:
    """``Authorization: Bearer <key>`` on ``/v1`` and ``/calltune``; 401 with an OpenAI body otherwise."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.expected = f"Bearer {api_key}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS":
            path: str = scope["path"]
            if path.startswith("/v1") or path.startswith("/calltune"):
                headers = dict(scope.get("headers") or [])
                if headers.get(b"authorization", b"") != self.expected:
                    await _send_json(
                        send,
                        401,
                        error_body(
                            "Incorrect or missing API key: send 'Authorization: Bearer <key>'.",
                            code="invalid_api_key",
                        ),
                    )
                    return
        await self.app(scope, receive, send)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
