"""xgrammar ``TokenizerInfo`` for the engines calltune runs locally: llama.cpp and transformers.

A grammar is compiled once per (tokenizer, grammar); the token masks it produces
need every token's exact bytes. Two sources:

- a loaded ``llama_cpp.Llama``: each id's piece as llama.cpp detokenizes it (special
  tokens included, as their text), so the vocabulary is RAW bytes;
- a transformers tokenizer, through ``TokenizerInfo.from_huggingface``.

Stop tokens (those allowed once the grammar is complete) are the model's end-of-
generation tokens.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

import xgrammar as xgr

from ..engines.hf_tokens import default_stop_ids

__all__ = [
    "byte_tokenizer_info",
    "default_stop_ids",
    "from_huggingface",
    "from_llama",
    "llama_eog_ids",
    "llama_pieces",
]

_LLAMA_CACHE: weakref.WeakKeyDictionary[Any, xgr.TokenizerInfo] = weakref.WeakKeyDictionary()
_HF_CACHE: dict[tuple[int, int | None], tuple[Any, xgr.TokenizerInfo]] = {}


def byte_tokenizer_info() -> xgr.TokenizerInfo:
    """A vocabulary of the 256 single bytes plus one stop token (id 256): for checking text."""
    global _BYTE_INFO
    if _BYTE_INFO is None:
        vocab = [bytes([i]) for i in range(256)] + [b"</s>"]
        _BYTE_INFO = xgr.TokenizerInfo(vocab, xgr.VocabType.RAW, stop_token_ids=[256])
    return _BYTE_INFO


_BYTE_INFO: xgr.TokenizerInfo | None = None


def llama_pieces(llama: Any) -> list[bytes]:
    """Every token's bytes as llama.cpp writes them (special tokens as their text)."""
    import llama_cpp

    vocab = llama._model.vocab
    to_piece = llama_cpp.llama_token_to_piece
    size = 256
    buf = ctypes.create_string_buffer(size)
    out: list[bytes] = []
    for tok in range(int(llama.n_vocab())):
        n = to_piece(vocab, tok, buf, size, 0, True)
        if n < 0:  # longer than the buffer: rare
            big = ctypes.create_string_buffer(-n)
            n = to_piece(vocab, tok, big, -n, 0, True)
            out.append(big.raw[:n])
        else:
            out.append(buf.raw[:n])
    return out


def llama_eog_ids(llama: Any) -> list[int]:
    """Every end-of-generation token id of a loaded llama.cpp model."""
    import llama_cpp

    vocab = llama._model.vocab
    return [i for i in range(llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, i)]


def from_llama(llama: Any) -> xgr.TokenizerInfo:
    """TokenizerInfo of a loaded ``llama_cpp.Llama`` (cached per Llama object)."""
    try:
        return _LLAMA_CACHE[llama]
    except (KeyError, TypeError):
        pass
    n = int(llama.n_vocab())
    vocab = llama_pieces(llama)
    stops = llama_eog_ids(llama)
    info = xgr.TokenizerInfo(vocab, xgr.VocabType.RAW, vocab_size=n, stop_token_ids=stops)
    try:
        _LLAMA_CACHE[llama] = info
    except TypeError:
        pass
    return info


def from_huggingface(
    tokenizer: Any, vocab_size: int | None = None, stop_token_ids: list[int] | None = None
) -> xgr.TokenizerInfo:
    """TokenizerInfo of a transformers tokenizer (cached per tokenizer object, vocab size and
    stop set). ``stop_token_ids``: the tokens that may end the output (default:
    :func:`default_stop_ids`)."""
    stops = list(stop_token_ids) if stop_token_ids is not None else default_stop_ids(tokenizer)
    key = (id(tokenizer), vocab_size, tuple(sorted(stops)))
    hit = _HF_CACHE.get(key)
    if hit is not None and hit[0] is tokenizer:
        return hit[1]
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stops or None)
    _HF_CACHE[key] = (tokenizer, info)
    return info
