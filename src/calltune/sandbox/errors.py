"""The sandbox's own error."""

from __future__ import annotations

from ..errors import CalltuneError


class SandboxError(CalltuneError, RuntimeError):
    """The sandbox could not start (or was asked for isolation this machine cannot give)."""
