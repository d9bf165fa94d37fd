"""encode_sample never encodes a role marker as text (fast: a character-level tokenizer)."""

from __future__ import annotations

import pytest

from calltune.train.encode import EncodeError, MissingMarkersError, encode_sample

MARKERS = ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
SAMPLE = {
    "conversations": [
        {"role": "user", "content": "2+3?"},
        {"role": "tool", "name": "add", "parameters": {"a": 2, "b": 3}, "observation": 5},
        {"role": "assistant", "content": "5"},
    ]
}


class CharAdapter:
    """A TokenizerAdapter with one id per character and special ids for ``markers`` only."""

    def __init__(self, markers: list[str]) -> None:
        self.ids = {m: 1000 + i for i, m in enumerate(markers)}

    def encode_text(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def special_id(self, marker: str) -> int | None:
        return self.ids.get(marker)


def test_markers_are_single_ids():
    ad = CharAdapter(MARKERS)
    e = encode_sample(SAMPLE, ad)
    assert e.input_ids.count(ad.ids["<|observation|>"]) == 1
    assert e.input_ids[-1] == ad.ids["<|user|>"] and e.labels[-1] == ad.ids["<|user|>"]  # the learnt stop
    text = "".join(chr(i) for i in e.input_ids if i < 1000)
    assert "<|" not in text  # no marker spelt out as characters


def test_a_missing_marker_raises_and_names_it():
    ad = CharAdapter(MARKERS[:3])  # no <|observation|>
    with pytest.raises(EncodeError, match=r"chatglm3 role markers \['<\|observation\|>'\]") as ei:
        encode_sample(SAMPLE, ad)
    assert isinstance(ei.value, MissingMarkersError) and ei.value.missing == ["<|observation|>"]
    # an adapter without a transformers tokenizer behind it cannot get new tokens
    with pytest.raises(MissingMarkersError, match="cannot add tokens"):
        encode_sample(SAMPLE, ad, add_missing_markers=True)
