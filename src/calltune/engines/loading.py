"""What every local engine does while loading a model: a progress spinner and the choice
of its default chat format."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any


def detect_default_format(chat_template: str | None, model_id: str = "") -> str:
    """Format name for a chat template via :func:`calltune.formats.detect_format`; "hermes"
    when the formats package cannot tell."""
    from ..formats import detect_format

    try:
        return detect_format(chat_template, model_id) or "hermes"
    except Exception:  # noqa: BLE001 - detection is best effort
        return "hermes"


def loading_status(message: str, progress: bool | None) -> Any:
    """A rich spinner on stderr while a model loads (off when stderr is not a terminal)."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(message)
