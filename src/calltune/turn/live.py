"""Calls sent while the model writes them, and only calls the turn will not take back.

A turn's stream parser sends a call's start and its arguments as they are generated. The turn
passes them on at once only when nothing it does after the generation can drop or replace that
call (:func:`calls_stream_live`): no retry of a forced choice, no relevance check, no grammar
turn (cut at its first repeated call). Two rules it applies while the call is written
(:class:`LiveCalls`): with ``parallel_tool_calls`` off only the first call goes out, and a call
that may still turn out to repeat one already answered since the user spoke is held back until
it cannot (its complete members differ from every such call) — and dropped, never sent, when it
does repeat one. A call that was sent and then turned out broken is withdrawn with a
``tool_call_abort`` delta (the server ends the stream with an error, or ``length``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..types import Delta
from .history import call_key
from .policy import TurnPlan
from .relevance import relevance_applies

_DECODER = json.JSONDecoder()


def calls_stream_live(
    plan: TurnPlan,
    messages: Sequence[dict[str, Any]],
    *,
    enabled: bool,
    check_relevance: bool,
    relevance_exempt: Collection[str],
    ground_arguments: bool = False,
) -> bool:
    """True when the turn may send calls while they are written (see the module docstring).
    Argument grounding may leave arguments out after the generation, so it rules it out too."""
    if not enabled or ground_arguments or plan.choice == "none" or plan.force_by_prompt:
        return False
    if plan.constraint is not None and getattr(plan.constraint, "allows_calls", True):
        return False  # generated whole and cut at the first repeated call
    return not relevance_applies(check_relevance, plan, messages, relevance_exempt)


def complete_members(prefix: str) -> list[tuple[str, Any]]:
    """The complete ``key: value`` members at the top of a canonical JSON object written so far
    (``{"a": 1, "b": "x`` → ``[("a", 1)]``: a string's closing quote and a number are written
    only once they are final)."""
    out: list[tuple[str, Any]] = []
    if not prefix.startswith("{"):
        return out
    i = 1
    while i < len(prefix) and prefix[i] != "}":
        if prefix.startswith(", ", i):
            i += 2
        try:
            key, j = _DECODER.raw_decode(prefix, i)
            if not prefix.startswith(": ", j):
                return out
            value, i = _DECODER.raw_decode(prefix, j + 2)
        except ValueError:
            return out
        out.append((key, value))
    return out


@dataclass
class _Call:
    start: Delta
    skip: bool  # left out: a call after the first when only one may be made
    held: list[Delta] = field(default_factory=list)
    args: str = ""
    index: int | None = None  # the turn's index once sent


class LiveCalls:
    """Passes on a generation's call deltas (a stream parser's) as the turn's: renumbered in the
    order they are sent, held while a call may repeat one of ``answered`` (call keys, see
    :func:`~calltune.turn.history.call_key`), left out after the first when not ``parallel``."""

    def __init__(self, answered: Collection[str] = (), parallel: bool = True) -> None:
        self.answered = set(answered)
        self._answered_args: dict[str, list[dict[str, Any]]] = {}
        for key in self.answered:
            name, _, args = key.partition("\0")
            self._answered_args.setdefault(name, []).append(json.loads(args))
        self.parallel = parallel
        #: ids of the calls sent and complete, in order
        self.sent: list[str] = []
        #: the index the next call sent gets (withdrawn calls keep theirs)
        self.next_index = 0
        self._cur: _Call | None = None
        self._complete = 0  # calls of the generation complete so far (sent or not)

    def relay(self, d: Delta) -> list[Delta]:
        """The turn's deltas for one parser delta (a call's start, arguments, end or abort)."""
        if d.kind == "tool_call_start":
            self._cur = _Call(d, skip=not self.parallel and self._complete > 0)
            self._cur.held.append(d)
            return self._release()
        cur = self._cur
        if cur is None:
            return []
        if d.kind == "tool_call_args":
            cur.args += d.text
            cur.held.append(d)
            return self._release()
        self._cur = None
        if d.kind == "tool_call_abort":
            return [self._numbered(d, cur)] if cur.index is not None else []
        # tool_call_end
        self._complete += 1
        if cur.skip or (cur.index is None and call_key(d.name or "", json.loads(d.text)) in self.answered):
            return []
        out = self._send(cur) if cur.index is None else []
        self.sent.append(d.id or "")
        return [*out, self._numbered(d, cur)]

    def _release(self) -> list[Delta]:
        cur = self._cur
        assert cur is not None
        if cur.skip:
            return []
        if cur.index is not None:
            return [self._numbered(cur.held.pop(), cur)]
        if self._may_repeat(cur):
            return []
        return self._send(cur)

    def _send(self, cur: _Call) -> list[Delta]:
        cur.index, self.next_index = self.next_index, self.next_index + 1
        out = [self._numbered(x, cur) for x in cur.held]
        cur.held = []
        return out

    def _numbered(self, d: Delta, cur: _Call) -> Delta:
        assert cur.index is not None
        return replace(d, index=cur.index)

    def _may_repeat(self, cur: _Call) -> bool:
        earlier = self._answered_args.get(cur.start.name or "")
        if not earlier:
            return False
        members = [(k, _canonical(v)) for k, v in complete_members(cur.args)]
        return any(all(k in args and _canonical(args[k]) == v for k, v in members) for args in earlier)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
