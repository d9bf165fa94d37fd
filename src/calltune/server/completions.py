"""``POST /v1/completions``: the legacy text-completion API over the raw engine.

The prompt is sent as it is (no chat format, no tools, no turn): what a client that renders its
own prompts needs, e.g. :class:`~calltune.engines.openai_remote.OpenAIRemoteEngine`, the engine
``calltune data generate --teacher http://.../v1`` and ``calltune eval`` talk to. A
``response_format`` (``json_object`` or ``json_schema``, the spelling vLLM's completions endpoint
takes too) makes the completion one JSON value by guided decoding, with the grammar the
in-process teacher uses (:func:`calltune.guided.build_constraint` over the served format): a
remote teacher's instruction replies are then schema-shaped like a local one's.

Not supported (a 400 that says so): several prompts or ``n`` > 1 in one request, ``echo``,
``logprobs``, ``suffix``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..engines.base import Engine, SamplingParams
from ..errors import CalltuneError
from ..turn import parse_response_format
from ..turn.policy import can_constrain
from .errors import api_error
from .schemas import APIError, CompletionRequest, error_body
from .service import MAX_STOP, _validation_param
from .streaming import EngineRunner, SSEResponse, sse


@dataclass
class PreparedCompletion:
    """A validated completion request, ready to generate."""

    req: CompletionRequest
    prompt: str | list[int]
    params: SamplingParams
    constraint: Any
    include_usage: bool


def _usage(usage: dict[str, Any] | None) -> dict[str, Any]:
    u = usage or {}
    prompt, completion = int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0))
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if u.get("cached_tokens") is not None:
        out["prompt_tokens_details"] = {"cached_tokens": int(u["cached_tokens"])}
    return out


class CompletionService:
    """Text-completion requests → one generation on the engine → OpenAI ``text_completion``s."""

    def __init__(
        self, engine: Engine, fmt: Any, model_name: str, runner: EngineRunner, *, default_max_tokens: int
    ) -> None:
        self.engine = engine
        self.format = fmt
        self.model_name = model_name
        self.runner = runner
        self.default_max_tokens = default_max_tokens

    def prepare(self, body: Any) -> PreparedCompletion:
        if not isinstance(body, dict):
            raise APIError("the request body must be a JSON object")
        if isinstance(body.get("prompt"), list) and body["prompt"] and not isinstance(body["prompt"][0], int):
            raise APIError("one prompt per request (a string or a list of token ids)", param="prompt")
        try:
            req = CompletionRequest.model_validate(body)
        except ValidationError as exc:
            param, msg = _validation_param(exc)
            raise APIError(msg, param=param or None, code="invalid_value") from None
        if req.n not in (None, 1):
            raise APIError("only n=1 is supported", param="n", code="invalid_value")
        for name in ("echo", "logprobs", "suffix"):
            if getattr(req, name):
                raise APIError(f"'{name}' is not supported", param=name, code="unsupported_parameter")
        if not req.prompt:
            raise APIError("'prompt' is empty", param="prompt")
        stop = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
        if len(stop) > MAX_STOP or any(not s for s in stop):
            raise APIError(f"'stop' takes up to {MAX_STOP} non-empty strings", param="stop")
        constraint = self._constraint(req.response_format)
        n_prompt = len(req.prompt) if isinstance(req.prompt, list) else self.engine.count_tokens(req.prompt)
        room = self.engine.context_length - n_prompt
        if room < 1:
            raise APIError(
                f"the prompt has {n_prompt} tokens; the context holds {self.engine.context_length}",
                param="prompt",
                code="context_length_exceeded",
            )
        if req.max_tokens is not None and req.max_tokens > room:
            raise APIError(
                f"max_tokens {req.max_tokens} + the prompt's {n_prompt} tokens exceed the context of "
                f"{self.engine.context_length}",
                param="max_tokens",
                code="context_length_exceeded",
            )
        params = SamplingParams(
            max_tokens=min(req.max_tokens or self.default_max_tokens, room),
            temperature=0.0 if req.temperature is None else req.temperature,
            top_p=1.0 if req.top_p is None else req.top_p,
            seed=req.seed,
            stop=stop,
        )
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        return PreparedCompletion(req, req.prompt, params, constraint, include_usage)

    def _constraint(self, response_format: dict[str, Any] | None) -> Any:
        try:
            rf = parse_response_format(response_format)
        except CalltuneError as exc:
            raise api_error(exc) from None
        if rf is None:
            return None
        if not can_constrain(self.engine):
            raise APIError(
                "this engine has no guided decoding: it cannot enforce a response_format",
                param="response_format",
                code="unsupported_response_format",
            )
        try:
            from ..guided import GuidedError, build_constraint
        except ImportError:
            raise APIError(
                "guided decoding is not installed (pip install 'calltune[guided]')",
                param="response_format",
                code="unsupported_response_format",
            ) from None
        try:
            return build_constraint(self.format, [], "none", response_schema=rf.schema)
        except GuidedError as exc:
            raise APIError(
                f"the response_format cannot be enforced: {exc}",
                param="response_format",
                code="unsupported_response_format",
            ) from None

    def _envelope(self) -> dict[str, Any]:
        return {
            "id": "cmpl-" + uuid.uuid4().hex[:24],
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.model_name,
        }

    async def _chunks(self, prep: PreparedCompletion) -> AsyncIterator[Any]:
        try:
            async for chunk in self.runner.stream(prep.prompt, prep.params, prep.constraint):
                yield chunk
        except CalltuneError as exc:
            raise api_error(exc) from None

    async def complete(self, prep: PreparedCompletion) -> dict[str, Any]:
        text: list[str] = []
        finish, stop, usage = "stop", None, None
        async for ch in self._chunks(prep):
            text.append(ch.text)
            if ch.finish_reason:
                finish, stop, usage = ch.finish_reason, ch.stop, ch.usage
        choice = {"index": 0, "text": "".join(text), "logprobs": None, "finish_reason": finish}
        if stop is not None:
            choice["stop_reason"] = stop  # vLLM's field: the stop string that matched
        return {**self._envelope(), "choices": [choice], "usage": _usage(usage)}

    async def stream(self, prep: PreparedCompletion) -> SSEResponse:
        """A streamed ``text_completion`` response; an error before the first chunk is an HTTP
        error, one after it an in-band error event."""
        env = self._envelope()
        it = self._chunks(prep).__aiter__()
        try:
            first = await it.__anext__()
        except StopAsyncIteration:
            first = None

        def event(ch: Any) -> str:
            choice: dict[str, Any] = {"index": 0, "text": ch.text, "logprobs": None}
            choice["finish_reason"] = ch.finish_reason
            if ch.finish_reason and ch.stop is not None:
                choice["stop_reason"] = ch.stop
            data: dict[str, Any] = {**env, "choices": [choice]}
            if prep.include_usage:
                data["usage"] = None
            return sse(data)

        async def body() -> AsyncIterator[str]:
            usage = None
            try:
                pending = [first] if first is not None else []
                while True:
                    ch = pending.pop() if pending else await it.__anext__()
                    if ch.finish_reason:
                        usage = ch.usage
                    yield event(ch)
            except StopAsyncIteration:
                pass
            except APIError as exc:
                yield sse(exc.body())
            except Exception as exc:  # noqa: BLE001 - reported in-band: the stream has begun
                yield sse(error_body(str(exc), type="server_error", code="internal_error"))
            if prep.include_usage:
                yield sse({**env, "choices": [], "usage": _usage(usage)})
            yield sse("[DONE]")

        return SSEResponse(body())
