"""Tool calls spelt as a model writes them, to script an engine with."""

from __future__ import annotations

import json
from typing import Any


def hermes_call(name: str, args: dict[str, Any]) -> str:
    """A Hermes tool call block: ``<tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call>``."""
    body = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"
