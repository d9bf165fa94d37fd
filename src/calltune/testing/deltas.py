"""Reading a stream of :class:`~calltune.types.Delta` events back, holding it to the contract.

:func:`assemble` is what a client of a stream parser (or of a turn) does with its deltas:
collect the content and the reasoning, and build each call from its start, its argument pieces
and its end, forgetting a call that was withdrawn. It asserts the contract on the way: one call
open at a time, pieces only for the open call, an end whose text is the pieces joined, a start
at the index after the calls already complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from calltune.types import Delta


@dataclass
class StreamedCall:
    index: int
    id: str | None
    name: str | None
    pieces: list[str] = field(default_factory=list)

    @property
    def arguments(self) -> str:
        return "".join(self.pieces)


@dataclass
class Assembled:
    content: str = ""
    reasoning: str = ""
    calls: list[StreamedCall] = field(default_factory=list)
    #: calls whose start went out and that were withdrawn
    aborted: list[StreamedCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def assemble(deltas: Iterable[Delta], parser: bool = True) -> Assembled:
    """The content, reasoning, complete calls, withdrawn calls and errors of ``deltas``.
    ``parser``: the deltas of a stream parser, whose next call takes the index after the calls
    complete so far (a withdrawn call's index is taken again); a turn's calls (``False``) have
    increasing indices, a withdrawn one's never taken again."""
    out = Assembled()
    content: list[str] = []
    reasoning: list[str] = []
    open_call: StreamedCall | None = None
    for d in deltas:
        if d.kind == "content":
            content.append(d.text)
        elif d.kind == "reasoning":
            reasoning.append(d.text)
        elif d.kind == "tool_call_start":
            assert open_call is None, f"call {d.index} starts while call {open_call} is open"
            if parser:
                assert d.index == len(out.calls), (
                    f"call starts at index {d.index} after {len(out.calls)} calls"
                )
            else:
                used = [c.index for c in out.calls + out.aborted]
                assert d.index == (max(used) + 1 if used else 0), f"call index {d.index} after {used}"
            open_call = StreamedCall(d.index, d.id, d.name)
        elif d.kind == "tool_call_args":
            assert open_call is not None and d.index == open_call.index, f"arguments of no open call: {d}"
            assert d.text, "an empty arguments piece"
            open_call.pieces.append(d.text)
        elif d.kind == "tool_call_end":
            assert open_call is not None and d.index == open_call.index, f"end of no open call: {d}"
            assert d.text == open_call.arguments, "the end's text is not the pieces joined"
            assert d.id == open_call.id
            out.calls.append(open_call)
            open_call = None
        elif d.kind == "tool_call_abort":
            assert open_call is not None and d.index == open_call.index, f"abort of no open call: {d}"
            out.aborted.append(open_call)
            open_call = None
        elif d.kind == "error":
            out.errors.append(d.text)
        else:  # pragma: no cover - a kind the contract does not know
            raise AssertionError(f"unknown delta kind {d.kind!r}")
    assert open_call is None, f"call {open_call} never ended"
    out.content, out.reasoning = "".join(content), "".join(reasoning)
    return out
