"""Tokenizer adapters: what a chat format needs from a tokenizer (see :class:`.base.TokenizerAdapter`).

The llama.cpp adapter lives in the llama.cpp engine; this module holds the Hugging Face one.
"""

from __future__ import annotations

import re
from typing import Any

_MARKER = re.compile(r"^(<[^<>\s]+>|\[[^\[\]\s]+\]|<\|[^\s]*\|>)$")


class HFTokenizerAdapter:
    """Adapter for a Hugging Face tokenizer.

    ``encode_text`` never produces the id of a special token or of a marker-like added
    token (``<...>``, ``[...]``): special tokens are split with ``split_special_tokens=True``,
    and added non-special markers such as Qwen's ``<tool_call>`` — which that flag does not
    split — are broken up by encoding the text around a cut inside each occurrence. Text
    without such markers tokenizes exactly as ``tokenizer.encode(text)`` does. ``special_id`` returns an id only for a marker
    that is a single added/special token of the vocabulary.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        added = dict(tokenizer.get_added_vocab())
        self._added: dict[str, int] = added
        # marker-like added tokens (``<tool_call>``, ``[gMASK]``); whitespace tokens such as
        # Gemma's ``\n\n`` are left to tokenize normally
        self._markers = sorted((m for m in added if _MARKER.match(m)), key=len, reverse=True)
        self._marker_ids: set[int] = {added[m] for m in self._markers}
        self._marker_ids |= set(getattr(tokenizer, "all_special_ids", []) or [])

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True))

    def encode_text(self, text: str) -> list[int]:
        if not text:
            return []
        ids = self._encode(text)
        if self._marker_ids.isdisjoint(ids):
            return ids
        return self._encode_cut(text, depth=0)

    def _encode_cut(self, text: str, depth: int) -> list[int]:
        cuts = sorted({j + 1 for m in self._markers for j in _find_all(text, m)})
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if b > a]
        out: list[int] = []
        for p in pieces:
            ids = self._encode(p)
            if not self._marker_ids.isdisjoint(ids):
                ids = self._encode_cut(p, depth + 1) if depth < 4 else [i for c in p for i in self._encode(c)]
            out.extend(ids)
        return out

    def special_id(self, marker: str) -> int | None:
        if marker in self._added:
            return self._added[marker]
        if marker in (getattr(self.tokenizer, "all_special_tokens", None) or []):
            tid = self.tokenizer.convert_tokens_to_ids(marker)
            return int(tid) if isinstance(tid, int) else None
        return None

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)


def _find_all(text: str, sub: str) -> list[int]:
    out, i = [], text.find(sub)
    while i != -1:
        out.append(i)
        i = text.find(sub, i + 1)
    return out
