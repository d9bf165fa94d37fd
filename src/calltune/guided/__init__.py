"""Guided decoding for tool calls: grammars in each chat format's own call syntax.

``build_constraint(format, tools, mode, parallel)`` returns a :class:`Constraint`;
engines apply it through ``constraint.llamacpp_logits_processor(llama)`` /
``constraint.hf_logits_processor(tokenizer)`` (or ``logits_processor_for(engine)``).
When a turn is guided is decided by the one policy in :mod:`calltune.turn.policy`.
See docs/guided.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import GuidedError

if TYPE_CHECKING:
    from .constraint import Constraint, build_constraint, parse_mode

_LAZY = {"Constraint", "build_constraint", "parse_mode"}


def __getattr__(name: str) -> Any:
    """The grammar builder loads xgrammar (and torch with it: seconds), so it is imported when
    first used, not when the CLI starts. Without ``calltune[guided]`` this raises ImportError."""
    if name in _LAZY:
        from . import constraint

        return getattr(constraint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Constraint",
    "GuidedError",
    "build_constraint",
    "parse_mode",
]
