"""Request bodies and OpenAI-style error bodies for the chat-completions server.

Only what the server reads is typed; other OpenAI fields (``logprobs``,
``frequency_penalty``, ``user``, ...) are accepted and ignored, so an unchanged
``openai`` client never trips over them. A known field with the wrong type is a 400.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import CalltuneError


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class FunctionCallIn(BaseModel):
    """``function`` of an assistant's tool call, or a legacy ``function_call``."""

    model_config = ConfigDict(extra="allow")

    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCallIn


class MessageIn(BaseModel):
    """One message; roles and their order are checked by :func:`calltune.messages.normalize_messages`."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCallIn | None = None


class SamplingRequest(BaseModel):
    """The fields chat and text completion bodies share."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    #: text | json_object | json_schema (checked by calltune.turn.parse_response_format); on
    #: text completions the completion is then one JSON value, as vLLM's completions endpoint takes it
    response_format: dict[str, Any] | None = None


class ChatCompletionRequest(SamplingRequest):
    """The body of ``POST /v1/chat/completions``."""

    messages: list[MessageIn] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    # legacy function-calling API
    functions: list[dict[str, Any]] | None = None
    function_call: Literal["none", "auto"] | dict[str, Any] | None = None
    max_completion_tokens: int | None = Field(default=None, ge=1)
    #: passed to the chat template, as vLLM does; calltune reads ``enable_thinking``
    chat_template_kwargs: dict[str, Any] | None = None


class CompletionRequest(SamplingRequest):
    """The body of ``POST /v1/completions`` (the legacy text-completion API)."""

    #: one prompt: a text, or token ids of the served model's vocabulary
    prompt: str | list[int]
    echo: bool | None = False
    logprobs: int | None = None
    suffix: str | None = None


class APIError(CalltuneError):
    """An error reported to the client as ``{"error": {message, type, param, code}}``."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return error_body(self.message, type=self.type, param=self.param, code=self.code)


def error_body(
    message: str, *, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}
