"""Guided decoding for tool calls: grammars in each chat format's own call syntax.

``build_constraint(format, tools, mode, parallel)`` returns a :class:`Constraint`;
engines apply it through ``constraint.llamacpp_logits_processor(llama)`` /
``constraint.hf_logits_processor(tokenizer)`` (or ``logits_processor_for(engine)``).
When a turn is guided is decided by the one policy in :mod:`calltune.turn.policy`.
See docs/guided.md.
"""

from __future__ import annotations

from .constraint import Constraint, build_constraint, parse_mode
from .errors import GuidedError

__all__ = [
    "Constraint",
    "GuidedError",
    "build_constraint",
    "parse_mode",
]
