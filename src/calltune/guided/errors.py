"""Errors of the guided-decoding package."""

from __future__ import annotations

from ..errors import CalltuneError


class GuidedError(CalltuneError, ValueError):
    """A constraint could not be built or applied (bad mode, unknown tool, unsupported schema...)."""
