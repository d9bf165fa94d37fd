"""The one place where calltune's exceptions become OpenAI error responses."""

from __future__ import annotations

from ..engines.base import ContextLengthError, EngineError
from ..errors import CalltuneError
from ..messages import MessageError
from ..turn import PromptError, ResponseFormatError, ToolChoiceError
from .schemas import APIError


def api_error(exc: CalltuneError, *, choice_param: str = "tool_choice") -> APIError:
    """The :class:`APIError` (status, type, param, code) a client gets for ``exc``."""
    if isinstance(exc, APIError):
        return exc
    msg = str(exc)
    if isinstance(exc, ContextLengthError):
        return APIError(msg, param="messages", code="context_length_exceeded")
    if isinstance(exc, EngineError):
        return APIError(msg, status=500, type="server_error", code="engine_error")
    if isinstance(exc, MessageError):  # UnsupportedContentError names the content part
        return APIError(msg, param=exc.param, code=exc.code)
    if isinstance(exc, PromptError):
        return APIError(msg, param="messages")
    if isinstance(exc, ResponseFormatError):
        return APIError(msg, param="response_format", code=exc.code)
    if isinstance(exc, ToolChoiceError):
        return APIError(
            msg.replace("tool_choice", f"'{choice_param}'", 1), param=choice_param, code="invalid_tool_choice"
        )
    try:
        from ..guided import GuidedError
    except ImportError:  # guided decoding not installed
        GuidedError = ()  # type: ignore[assignment,misc]  # noqa: N806
    if GuidedError and isinstance(exc, GuidedError):
        return APIError(
            f"the tools cannot be enforced with guided decoding: {msg}",
            param="tools",
            code="unsupported_tool_schema",
        )
    return APIError(msg, status=500, type="server_error", code="internal_error")
