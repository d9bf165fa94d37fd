"""A model's first turn on a held-out request, through calltune's :class:`~calltune.agent.Agent`
with the teacher's agent settings (:func:`calltune.datagen.trajectories.make_agent`): relevance
check, argument grounding and call continuation as in the trajectories the teacher wrote.

The agent runs one model turn over the offered tools as specs only (``Tool.from_spec``: a call
is never run), so what it did is the conversation's first assistant message — read with
:func:`calltune.distill.heldout.first_turn`, as the teacher's is read from its trajectory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..datagen.trajectories import AgentSettings, make_agent
from ..tools import Tool, Toolbox
from .heldout import first_turn


def run_first_turn(
    engine: Any, format: Any, row: Mapping[str, Any], settings: AgentSettings, seed: int
) -> dict[str, Any]:
    """``row``'s request (a ``split/heldout.jsonl`` line) answered for one model turn: the
    :func:`~calltune.distill.heldout.first_turn` record plus its tokens and seconds
    (``completion_tokens``; ``decode_tokens`` and ``decode_s``: the tokens after the first of
    each generation and the seconds they took, where the engine reports them)."""
    box = Toolbox([Tool.from_spec(s) for s in row.get("tools") or []])
    agent = make_agent(engine, format, box, dataclasses.replace(settings, max_steps=1), seed)
    res = agent.run(row["request"])
    steps = res.trace.steps
    timed = [s for s in steps if s.decode_s > 0]
    return {
        **first_turn(res.messages),
        "error": res.trace.error,
        "completion_tokens": sum(s.completion_tokens for s in steps),
        "decode_tokens": sum(max((s.completion_tokens_first or s.completion_tokens) - 1, 0) for s in timed),
        "decode_s": round(sum(s.decode_s for s in timed), 6),
        "seconds": round(res.trace.total_s, 3),
    }
