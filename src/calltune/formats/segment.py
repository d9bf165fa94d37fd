"""What a format renders: :class:`Segment` pieces of text, and helpers that build them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Segment:
    """A piece of a rendered dialogue.

    ``special``: a role marker that must be encoded as one special-token id (never
    built from user text). ``loss``: the *unshifted* loss mask of DESIGN.md §3 —
    True for what the model generates at inference. Training shifts it by one
    (``labels[i]`` is set when ``loss`` of token ``i-1`` is True).
    ``role``: the message role the segment belongs to (for display and stats).
    """

    text: str
    special: bool = False
    loss: bool = False
    role: str = ""


def seg(text: str, role: str, loss: bool = False, special: bool = False) -> Segment:
    return Segment(text=text, special=special, loss=loss, role=role)


def split_markers(text: str, markers: Sequence[str], role: str, loss: bool) -> list[Segment]:
    """Segments of *format-authored* text where each occurrence of a marker is a special
    segment (so it is encoded as its token id, like the model's own template does)."""
    out: list[Segment] = []
    i = 0
    while i < len(text):
        hits = [(text.find(m, i), m) for m in markers]
        hits = [(j, m) for j, m in hits if j != -1]
        if not hits:
            break
        j, m = min(hits)
        if j > i:
            out.append(seg(text[i:j], role, loss))
        out.append(seg(m, role, loss, special=True))
        i = j + len(m)
    if i < len(text):
        out.append(seg(text[i:], role, loss))
    return out
