"""Stop-string matching and incremental UTF-8 decoding shared by the local engines.

Engines generate token by token; a stop string may be split across tokens
(``"<|us"`` + ``"er|>"``) and a multi-byte character may be split across tokens
(byte-fallback vocabularies). :class:`StopMatcher` holds back exactly the text
that could still turn into a stop string, and :class:`Utf8Stream` never lets a
broken character out. :class:`ByteTokenDecoder` and :class:`SequenceDecoder` turn
token ids into text the two ways a tokenizer can: from each token's bytes, or by
decoding the whole sequence so far.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from ..formats.streaming import held_suffix


class StopMatcher:
    """Find the first stop string in a stream of text pieces.

    ``feed(piece)`` returns ``(text_to_emit, stop_hit)``: ``stop_hit`` is the stop
    string that matched (the text before it is returned, the stop string and anything
    after it are dropped) or None. Text that is a prefix of some stop string at the end
    of what was fed so far is held back until it is decided. ``flush()`` returns the
    held-back text when generation ends for another reason.

    When two stop strings could match, the one that starts first wins; among those that
    start at the same place, the longest.
    """

    def __init__(self, stops: Iterable[str] = ()):
        self.stops: list[str] = sorted({s for s in stops if s}, key=len, reverse=True)
        self._pending = ""
        self.hit: str | None = None

    @property
    def pending(self) -> str:
        """Text held back because it might be the start of a stop string."""
        return self._pending

    def feed(self, piece: str) -> tuple[str, str | None]:
        if self.hit is not None:
            raise RuntimeError("StopMatcher already matched a stop string")
        if not self.stops:
            return piece, None
        buf = self._pending + piece
        best: tuple[int, str] | None = None
        for s in self.stops:  # longest first, so ties on position keep the longest
            j = buf.find(s)
            if j != -1 and (best is None or j < best[0]):
                best = (j, s)
        if best is not None:
            self._pending = ""
            self.hit = best[1]
            return buf[: best[0]], best[1]
        keep = held_suffix(buf, self.stops)
        self._pending = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep], None

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


class Utf8Stream:
    """Incremental UTF-8 decoder: bytes of tokens in, complete characters out.

    Bytes of a character split across tokens are kept until the character is complete;
    invalid bytes become U+FFFD; ``flush()`` releases an incomplete tail (as U+FFFD).
    """

    def __init__(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return self._dec.decode(data, final=False)

    def flush(self) -> str:
        return self._dec.decode(b"", final=True)


class TextDecoder(Protocol):
    """Generated token ids in, text out: ``feed(token)`` returns the text that is complete
    so far (maybe ""), ``flush()`` the rest when generation ends."""

    def feed(self, token: int) -> str: ...

    def flush(self) -> str: ...


class ByteTokenDecoder:
    """Text of tokens from their exact bytes (``token_bytes(id)``), through :class:`Utf8Stream`."""

    def __init__(self, token_bytes: Callable[[int], bytes]):
        self._bytes = token_bytes
        self._utf8 = Utf8Stream()

    def feed(self, token: int) -> str:
        return self._utf8.feed(self._bytes(token))

    def flush(self) -> str:
        return self._utf8.flush()


class SequenceDecoder:
    """Text of tokens for tokenizers that decode sequences, not single tokens
    (``decode(ids)``: spaces and byte-fallback pieces depend on their neighbours).

    The whole sequence is decoded after each token and the new end is returned; while
    it ends in U+FFFD (a character whose bytes are not all there yet) nothing is."""

    def __init__(self, decode: Callable[[Sequence[int]], str]):
        self._decode = decode
        self._ids: list[int] = []
        self._emitted = 0

    def feed(self, token: int) -> str:
        self._ids.append(token)
        text = self._decode(self._ids)
        if text.endswith("\ufffd"):
            return ""
        new, self._emitted = text[self._emitted :], len(text)
        return new

    def flush(self) -> str:
        text = self._decode(self._ids) if self._ids else ""
        new, self._emitted = text[self._emitted :], len(text)
        return new
