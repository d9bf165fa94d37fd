"""Tokenization of seed samples through the chat-format object, with DESIGN.md §3's masks.

The sample becomes OpenAI messages (each with its ``loss``), the format renders them
into :class:`~calltune.formats.base.Segment` s exactly as at inference, the format encodes
them (role markers by special-token id), and the unshifted mask is shifted by one::

    labels[0] = -100;  labels[i] = ids[i] if mask[i-1] else -100

so the role token that follows a trained message (``<|user|>`` / ``<|observation|>``)
is trained: that is how the model learns to stop. When the last message is trained,
the format's turn-over stop marker is appended so that the end of the dialogue teaches
stopping too.

Role markers are always their single special-token ids: a tokenizer that lacks some of the
format's markers raises :class:`MissingMarkersError` (add them with :func:`add_format_tokens`,
as training does) instead of spelling them as text.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CalltuneError
from ..formats.tokenizers import HFTokenizerAdapter
from .convert import seed_to_openai

IGNORE = -100


class EncodeError(CalltuneError, ValueError):
    """A sample that cannot be encoded."""


class MissingMarkersError(EncodeError):
    """The tokenizer lacks some of the format's role markers as single tokens.

    Encoding them as text would train only a fragment of the stop marker and let user text
    spell a marker; the markers have to be added first (:func:`add_format_tokens`)."""

    def __init__(self, missing: Sequence[str], format_name: str, can_add: bool = True):
        self.missing = list(missing)
        how = (
            "add them first with calltune.train.encode.add_format_tokens(tokenizer, format, model) "
            "(it also resizes the model's embeddings), or pass add_missing_markers=True"
            if can_add
            else "this tokenizer cannot add tokens; use a tokenizer that has them"
        )
        super().__init__(
            f"the tokenizer has no single token for the {format_name} role markers {self.missing}: {how}"
        )


_ADAPTERS: weakref.WeakKeyDictionary[Any, tuple[int, Any]] = weakref.WeakKeyDictionary()


def as_adapter(tokenizer: Any) -> Any:
    """A :class:`~calltune.formats.base.TokenizerAdapter` for ``tokenizer`` (an adapter is returned as is).

    A transformers tokenizer gets the formats package's ``HFTokenizerAdapter`` (what the
    transformers engine uses at inference), cached per tokenizer and vocabulary size.
    """
    if hasattr(tokenizer, "encode_text") and hasattr(tokenizer, "special_id"):
        return tokenizer
    try:
        hit = _ADAPTERS.get(tokenizer)
    except TypeError:  # not weak-referenceable
        return HFTokenizerAdapter(tokenizer)
    n = len(tokenizer)
    if hit is None or hit[0] != n:
        hit = (n, HFTokenizerAdapter(tokenizer))
        _ADAPTERS[tokenizer] = hit
    return hit[1]


def _hf_tokenizer(tokenizer: Any) -> Any | None:
    if hasattr(tokenizer, "get_vocab") and hasattr(tokenizer, "convert_tokens_to_ids"):
        return tokenizer
    for attr in ("tokenizer", "hf_tokenizer", "_tok", "_tokenizer"):
        inner = getattr(tokenizer, attr, None)
        if inner is not None and hasattr(inner, "convert_tokens_to_ids"):
            return inner
    return None


def bos_id(tokenizer: Any) -> int | None:
    """The BOS id to put in front of every sample, as the inference engines do
    (llama.cpp and transformers add BOS when the model wants one, e.g. Gemma)."""
    hf = _hf_tokenizer(tokenizer)
    if hf is None:
        return None
    bid = getattr(hf, "bos_token_id", None)
    if bid is None:
        return None
    # ``add_bos_token`` is not reliable across tokenizer classes: ask the tokenizer itself
    try:
        with_special = hf.encode("a", add_special_tokens=True)
    except Exception:  # pragma: no cover - exotic tokenizers
        return None
    return int(bid) if with_special and with_special[0] == bid else None


def get_format_obj(format: Any) -> Any:
    if isinstance(format, str):
        from ..formats import get_format

        return get_format(format)
    return format


def missing_special_tokens(tokenizer: Any, format: Any) -> list[str]:
    """Role markers of ``format`` that are not single tokens in ``tokenizer``'s vocabulary."""
    fmt = get_format_obj(format)
    ad = as_adapter(tokenizer)
    return [m for m in fmt.special_tokens if ad.special_id(m) is None]


def add_format_tokens(tokenizer: Any, format: Any, model: Any | None = None) -> list[str]:
    """Add the format's missing role markers to a transformers tokenizer as special tokens
    and resize ``model``'s embeddings (``mean_resizing=True``: new rows = the mean of the old ones,
    give or take transformers' 1e-9-covariance noise). Returns what was added.

    The markers that end a turn (the format's stop strings: ChatGLM3's ``<|user|>`` and
    ``<|observation|>``) start as a copy of the end-of-sequence token's rows instead, input and
    output: the model already predicts EOS where a text ends, so it starts near predicting them
    (from the mean row their NLL at a marker position was about 16, worse than uniform; see
    bench/marker_rows.py)."""
    hf = _hf_tokenizer(tokenizer)
    missing = missing_special_tokens(hf if hf is not None else tokenizer, format)
    if not missing:
        return []
    if hf is None:
        raise MissingMarkersError(missing, _format_name(format), can_add=False)
    hf.add_special_tokens({"extra_special_tokens": missing}, replace_extra_special_tokens=False)
    if model is not None:
        resize_for_markers(model, hf, missing, format)
    return missing


def resize_for_markers(model: Any, tokenizer: Any, added: Sequence[str], format: Any) -> None:
    """Grow ``model``'s embeddings to ``tokenizer`` after :func:`add_format_tokens` added
    ``added``: mean rows, the format's stop markers EOS's rows."""
    if model.get_input_embeddings().weight.shape[0] >= len(tokenizer):
        return
    model.resize_token_embeddings(len(tokenizer), mean_resizing=True)
    stops = [m for m in added if m in getattr(get_format_obj(format), "stop", [])]
    init_like_eos(model, [tokenizer.convert_tokens_to_ids(m) for m in stops], tokenizer.eos_token_id)


def init_like_eos(model: Any, token_ids: Sequence[int], eos_id: int | None) -> None:
    """Copy the EOS token's input (and, when untied, output) embedding row into ``token_ids``."""
    if eos_id is None or not token_ids:
        return
    import torch

    layers = [model.get_input_embeddings(), model.get_output_embeddings()]
    seen: set[int] = set()
    with torch.no_grad():
        for layer in layers:
            w = getattr(layer, "weight", None)
            if w is None or id(w) in seen or w.shape[0] <= max(token_ids):
                continue
            seen.add(id(w))
            for t in token_ids:
                w[t] = w[eos_id]


def marker_adapter(tokenizer: Any, format: Any, add_missing_markers: bool = False) -> Any:
    """The TokenizerAdapter for ``tokenizer`` once every role marker of ``format`` is a single token.

    Missing markers raise :class:`MissingMarkersError` (naming them and
    :func:`add_format_tokens`), or are added to the tokenizer when ``add_missing_markers``
    (the model's embeddings must then be resized to ``len(tokenizer)`` before training).
    """
    missing = missing_special_tokens(tokenizer, format)
    if missing and add_missing_markers:
        add_format_tokens(tokenizer, format)
        hf = _hf_tokenizer(tokenizer)
        tokenizer = hf if hf is not None else tokenizer  # a fresh adapter sees the new tokens
        missing = missing_special_tokens(tokenizer, format)
    if missing:
        raise MissingMarkersError(missing, _format_name(format), can_add=_hf_tokenizer(tokenizer) is not None)
    return as_adapter(tokenizer)


def _format_name(format: Any) -> str:
    return str(getattr(get_format_obj(format), "name", format))


def _marker_id(ad: Any, marker: str, fmt: Any) -> int:
    sid = ad.special_id(marker)
    if sid is None:  # a role marker is never encoded as text
        raise MissingMarkersError([marker], _format_name(fmt))
    return int(sid)


@dataclass
class EncodedSample:
    """``input_ids`` and ``labels`` (-100 where not trained) of one sample."""

    input_ids: list[int]
    labels: list[int]
    mask: list[bool] = field(repr=False, default_factory=list)  # unshifted loss mask
    truncated: bool = False
    original_length: int = 0

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def n_labels(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)

    def to_dict(self) -> dict[str, list[int]]:
        return {"input_ids": list(self.input_ids), "labels": list(self.labels)}


def shift_labels(ids: Sequence[int], mask: Sequence[bool]) -> list[int]:
    """``labels[i] = ids[i] if mask[i-1] else -100``; ``labels[0] = -100`` (DESIGN.md §3)."""
    return [IGNORE] + [t if m else IGNORE for t, m in zip(ids[1:], mask[:-1], strict=True)]


def sample_messages(sample: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """OpenAI ``(messages, tools)`` of a seed sample, with explicit per-message ``loss``
    (defaults: system/user/tool results untrained, assistant and calls trained)."""
    if "conversations" not in sample:
        raise EncodeError("a sample needs 'conversations' (seed format); convert OpenAI/ShareGPT data first")
    oa = seed_to_openai(dict(sample), merge=False)
    msgs = []
    for m in oa["messages"]:
        m = dict(m)
        m.setdefault("loss", m["role"] == "assistant")
        msgs.append(m)
    return msgs, oa.get("tools", [])


def _stop_marker(fmt: Any) -> str | None:
    for s in getattr(fmt, "stop", []) or []:
        if not fmt.stop_means_call(s):
            return s
    return None


def encode_sample(
    sample: Mapping[str, Any],
    tokenizer: Any,
    format: Any = "chatglm3",
    max_length: int | None = None,
    add_bos: bool | None = None,
    add_missing_markers: bool = False,
) -> EncodedSample:
    """Encode one seed sample into ``input_ids`` and ``labels`` (see the module docstring).

    ``tokenizer``: a transformers tokenizer or a TokenizerAdapter. ``format``: a name or a
    ChatFormat. ``add_bos``: None = as the model wants (the tokenizer puts BOS first).
    ``max_length``: longer samples are cut at the last message boundary that fits (keeping
    the role token after it, so the stop is still learnt); ``truncated`` says so. A sample
    whose cut leaves no trained token raises :class:`EncodeError`.

    Every role marker is encoded as its single special-token id, never as text: a tokenizer
    that lacks some of the format's markers raises :class:`MissingMarkersError` (an
    :class:`EncodeError` naming them), unless ``add_missing_markers`` adds them to it (see
    :func:`marker_adapter`; training adds them with :func:`add_format_tokens`).
    """
    fmt = get_format_obj(format)
    ad = marker_adapter(tokenizer, fmt, add_missing_markers)
    messages, tools = sample_messages(sample)
    segs = fmt.segments(messages, tools or None, add_generation_prompt=False)
    # message boundaries: the index of each role marker (a special segment)
    ids: list[int] = []
    mask: list[bool] = []
    boundaries: list[int] = []
    bos = bos_id(tokenizer) if add_bos is None else (bos_id(tokenizer) if add_bos else None)
    if bos is not None:
        ids.append(bos)
        mask.append(False)
    for seg in segs:
        if not seg.text:
            continue
        if seg.special:
            _marker_id(ad, seg.text, fmt)
            boundaries.append(len(ids))
        pid, pmask = fmt.encode_segments([seg], ad)
        ids.extend(pid)
        mask.extend(pmask)
    text = "".join(s.text for s in segs)
    if mask and mask[-1]:
        stop = _stop_marker(fmt)
        if stop is not None and not text.rstrip().endswith(stop):
            boundaries.append(len(ids))
            ids.append(_marker_id(ad, stop, fmt))
            mask.append(False)
    labels = shift_labels(ids, mask)
    n = len(ids)
    if max_length is not None and n > max_length:
        # cut so that the kept part ends on a role marker (kept: its label is the learnt stop)
        cut = max((b + 1 for b in boundaries if b + 1 <= max_length), default=0)
        if cut == 0 or all(x == IGNORE for x in labels[:cut]):
            raise EncodeError(
                f"sample of {n} tokens does not fit max_length={max_length} with any trained token"
            )
        return EncodedSample(ids[:cut], labels[:cut], mask[:cut], truncated=True, original_length=n)
    return EncodedSample(ids, labels, mask, truncated=False, original_length=n)


@dataclass
class EncodeStats:
    samples: int = 0
    truncated: int = 0
    dropped: int = 0
    tokens: int = 0
    label_tokens: int = 0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["problems"] = self.problems[:20]
        return d


def encode_dataset(
    samples: Sequence[Mapping[str, Any]],
    tokenizer: Any,
    format: Any = "chatglm3",
    max_length: int | None = None,
    locations: Sequence[str] | None = None,
) -> tuple[list[EncodedSample], EncodeStats]:
    """Encode many samples; truncations and drops are counted (and listed) in the stats.

    A tokenizer without the format's role markers raises :class:`MissingMarkersError`
    (it would fail every sample, so nothing is dropped for it)."""
    fmt = get_format_obj(format)
    marker_adapter(tokenizer, fmt)
    out: list[EncodedSample] = []
    st = EncodeStats()
    for i, s in enumerate(samples):
        where = locations[i] if locations else f"sample {i}"
        try:
            e = encode_sample(s, tokenizer, fmt, max_length=max_length)
        except MissingMarkersError:
            raise
        except EncodeError as err:
            st.dropped += 1
            st.problems.append(f"{where}: dropped: {err}")
            continue
        if e.truncated:
            st.truncated += 1
            st.problems.append(f"{where}: truncated from {e.original_length} to {len(e)} tokens")
        st.samples += 1
        st.tokens += len(e)
        st.label_tokens += e.n_labels
        out.append(e)
    return out, st
