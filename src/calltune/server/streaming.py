"""One engine behind a queue, generation in a worker thread, and Server-Sent Events.

:class:`EngineRunner` lets many requests share one engine instance: requests wait in
FIFO order on an asyncio lock; the engine runs in a worker thread that hands chunks
to the event loop. When the consumer goes away (client disconnect, cancelled task)
the worker closes the engine's iterator after the chunk in flight, which stops
generation, and the next request can start.

:class:`SSEResponse` is a streaming response that watches for the client's
disconnect on every ASGI version and always closes its body iterator, so that a
client that hangs up mid-stream frees the engine at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ..engines.base import Chunk, Engine, SamplingParams
from ..errors import CalltuneError

T = TypeVar("T")


class GenerationCancelled(CalltuneError):  # noqa: N818 - control flow inside the worker thread only
    """Raised inside the engine's iterator when the consumer has gone away."""


class _Interruptible:
    """The engine as the worker's code sees it: every stream stops at the next chunk once the
    consumer has gone away, also inside a turn's inner generations (continuation, checks)."""

    def __init__(self, engine: Engine, stop: threading.Event) -> None:
        self._engine = engine
        self._stop = stop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]:
        it = self._engine.stream(prompt, params, constraint)
        try:
            for chunk in it:
                if self._stop.is_set():
                    raise GenerationCancelled()
                yield chunk
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def generate(self, prompt: str | list[int], params: SamplingParams, constraint: Any = None) -> Any:
        return Engine.generate(self, prompt, params, constraint)  # type: ignore[arg-type]


class EngineRunner:
    """Serialises access to one :class:`Engine` and bridges work on it to asyncio.

    An engine that decodes several sequences together (``engine.parallel``, the batching
    llama.cpp engine) is given that many requests at once; the rest wait their turn."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: requests given to the engine at once
        self.slots = max(1, int(getattr(engine, "parallel", 1) or 1))
        self._alock: asyncio.Semaphore | None = None
        # safety net: never more generations on the engine than it runs at once
        self._tlock = threading.BoundedSemaphore(self.slots)
        self.waiting = 0
        self.running = 0
        self.completed = 0
        self.cancelled = 0

    def _lock(self) -> asyncio.Semaphore:
        if self._alock is None:
            self._alock = asyncio.Semaphore(self.slots)
        return self._alock

    async def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> AsyncIterator[Chunk]:
        """Yield the engine's chunks (see :meth:`iterate`)."""
        async for chunk in self.iterate(lambda engine: engine.stream(prompt, params, constraint)):
            yield chunk

    async def iterate(self, work_on: Callable[[Any], Iterator[T]]) -> AsyncIterator[T]:
        """Yield the items of ``work_on(engine)``, run in a worker thread with the engine locked.
        Exceptions are re-raised here. Leaving the loop early (break, cancellation, ``aclose``)
        stops generation at the engine's next chunk."""
        self.waiting += 1
        try:
            await self._lock().acquire()
        finally:
            self.waiting -= 1
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        done = threading.Event()

        def put(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # loop closed (server shutting down)
                pass

        def work() -> None:
            it = None
            try:
                with self._tlock:
                    if stop.is_set():
                        return
                    it = work_on(_Interruptible(self.engine, stop))
                    for item in it:
                        if stop.is_set():
                            break
                        put("chunk", item)
                    else:
                        return
                    self.cancelled += 1
            except GenerationCancelled:
                self.cancelled += 1
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                put("error", exc)
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:  # noqa: BLE001 - closing must not mask the outcome
                        pass
                done.set()
                put("end", None)

        self.running += 1
        thread = threading.Thread(target=work, name="calltune-engine", daemon=True)
        thread.start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == "chunk":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    break
            self.completed += 1
        finally:
            stop.set()
            self.running -= 1
            # keep the engine locked until the worker has closed the iterator
            while not done.is_set():
                try:
                    await asyncio.sleep(0.005)
                except asyncio.CancelledError:
                    await asyncio.to_thread(done.wait)
                    raise
            self._lock().release()

    def stats(self) -> dict[str, int]:
        return {
            "waiting": self.waiting,
            "running": self.running,
            "completed": self.completed,
            "cancelled": self.cancelled,
        }


def sse(data: dict[str, Any] | str) -> str:
    """One Server-Sent Event line pair."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


class SSEResponse(StreamingResponse):
    """``text/event-stream`` response that stops its body iterator when the client leaves."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[str], **kw: Any) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        headers.update(kw.pop("headers", None) or {})
        super().__init__(content, headers=headers, **kw)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.body_iterator
        send_task = asyncio.ensure_future(self._send_all(send))
        listen_task = asyncio.ensure_future(self.listen_for_disconnect(receive))
        try:
            done, _ = await asyncio.wait({send_task, listen_task}, return_when=asyncio.FIRST_COMPLETED)
            if send_task in done:
                listen_task.cancel()
                exc = send_task.exception()
                if exc is not None and not isinstance(exc, OSError):
                    raise exc
            else:  # client went away: stop generating now
                send_task.cancel()
                try:
                    await send_task
                except (asyncio.CancelledError, OSError, Exception):  # noqa: BLE001
                    pass
        finally:
            for t in (send_task, listen_task):
                if not t.done():
                    t.cancel()
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:  # noqa: BLE001
                    pass

    async def _send_all(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
            data = chunk.encode(self.charset) if isinstance(chunk, str) else chunk
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
