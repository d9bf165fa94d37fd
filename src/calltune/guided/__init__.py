"""Guided decoding for tool calls: grammars in each chat format's own call syntax.

``build_constraint(format, tools, mode, parallel)`` returns a :class:`Constraint`;
engines apply it through ``constraint.llamacpp_logits_processor(llama)`` /
``constraint.hf_logits_processor(tokenizer)`` (or ``logits_processor_for(engine)``).
See docs/guided.md.
"""

from __future__ import annotations

from .constraint import Constraint, build_constraint, parse_mode
from .errors import GuidedError
from .policy import constraint_for_request, guided_by_default, guided_default, resolve_guided

__all__ = [
    "Constraint",
    "GuidedError",
    "build_constraint",
    "constraint_for_request",
    "guided_by_default",
    "guided_default",
    "parse_mode",
    "resolve_guided",
]
