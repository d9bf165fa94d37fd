"""Shared fixtures of the guided-decoding tests: tool schemas with every feature the tool
layer emits, valid and invalid arguments, and each format's spelling of a call turn."""

from __future__ import annotations

import json

from calltune.formats.pyliteral import render_tool_call
from calltune.testing import hermes_call

# Every JSON-Schema feature the tool layer emits (see calltune.tools.schema): scalar types,
# integer vs number, required vs optional, enums (also with null), nested objects with their
# own required list, arrays of scalars and of objects, tuples (prefixItems), nullable unions
# (type lists and anyOf), free-form dicts (additionalProperties), untyped values, const.
BOOK = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "city name"},
        "nights": {"type": "integer"},
        "budget": {"type": "number"},
        "pets": {"type": "boolean"},
        "rooms": {"type": "array", "items": {"type": "integer"}},
        "unit": {"type": "string", "enum": ["c", "f"]},
        "where": {
            "type": "object",
            "properties": {
                "x": {"type": "number"},
                "y": {"type": "number"},
                "label": {"type": ["string", "null"]},
            },
            "required": ["x", "y"],
        },
        "guests": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name"],
            },
        },
        "tags": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "mode": {"type": ["string", "null"], "enum": ["fast", "slow", None]},
        "pair": {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
        "anything": {},
        "version": {"const": 2},
    },
    "required": ["city", "nights", "budget", "pets", "rooms", "unit", "where"],
}
ADD = {
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "number", "nullable": True}},
    "required": ["a"],
}
TOOLS = [
    {
        "type": "function",
        "function": {"name": "book_hotel", "description": "Book a hotel.", "parameters": BOOK},
    },
    {"type": "function", "function": {"name": "add", "description": "Add numbers.", "parameters": ADD}},
]

REQ = {
    "city": "Paris",
    "nights": 2,
    "budget": 350.5,
    "pets": False,
    "rooms": [1, 2],
    "unit": "c",
    "where": {"x": 1.5, "y": -2},
}
FULL = {
    **REQ,
    "guests": [{"name": "Ann", "age": 30}, {"name": "Bo"}],
    "tags": {"view": "sea"},
    "note": None,
    "mode": "fast",
    "pair": [1, "a"],
    "anything": {"k": [1, True, None]},
    "version": 2,
}
# (arguments, why it is invalid) — each breaks one schema rule
INVALID = [
    ({k: v for k, v in REQ.items() if k != "city"}, "missing required"),
    ({**REQ, "nights": 2.5}, "number where integer"),
    ({**REQ, "nights": "2"}, "string where integer"),
    ({**REQ, "unit": "kelvin"}, "invented enum value"),
    ({**REQ, "pets": "yes"}, "string where boolean"),
    ({**REQ, "rooms": ["1"]}, "wrong item type"),
    ({**REQ, "where": {"x": 1}}, "nested required missing"),
    ({**REQ, "where": {"x": 1, "y": 2, "z": 3}}, "extra nested property"),
    ({**REQ, "guests": [{"age": 3}]}, "required missing in array item"),
    ({**REQ, "mode": "medium"}, "enum with null"),
    ({**REQ, "version": 3}, "const"),
    ({**REQ, "pair": [1]}, "tuple too short"),
    ({**REQ, "extra": 1}, "unknown property"),
]


# plain JSON Schema allows unknown properties; the grammar is strict (like OpenAI's strict mode)
STRICT_ONLY = {"extra nested property", "unknown property"}


# ------------------------------------------------------------------ call spellings per format


def glm4_call(name: str, args: dict) -> str:
    return f"{name}\n" + json.dumps(args, ensure_ascii=False)


def chatglm3_call(name: str, args: dict) -> str:
    return f"{name}\n```python\n{render_tool_call(args)}\n```"


def hermes_turn(calls: list[tuple[str, dict]]) -> str:
    return "\n".join(hermes_call(n, a) for n, a in calls)


def chatglm3_turn(calls: list[tuple[str, dict]]) -> str:
    return "<|assistant|>".join(chatglm3_call(n, a) for n, a in calls) + "<|observation|>"


def glm4_turn(calls: list[tuple[str, dict]]) -> str:
    return "<|assistant|>".join(glm4_call(n, a) for n, a in calls) + "<|observation|>"


TURN = {"hermes": hermes_turn, "chatglm3": chatglm3_turn, "glm4": glm4_turn}
FORMATS = sorted(TURN)


# ------------------------------------------------------------------ a stand-in model for processors


def trained_hf_tokenizer(corpus: list[str], vocab_size: int = 400):
    """A real byte-level BPE transformers tokenizer, trained here on ``corpus`` (no model files)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<|im_end|>", "<tool_call>", "</tool_call>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>")


def random_decode(proc, tok, bias, seed: int, max_steps: int = 300) -> str:
    """Greedy decoding of random logits plus ``bias`` (one value per id of the model's vocabulary,
    which may be larger than the tokenizer's) through the transformers logits processor ``proc``,
    until ``<|im_end|>``. Returns the text written; ids past the tokenizer are never allowed."""
    import torch

    eos = tok.convert_tokens_to_ids("<|im_end|>")
    gen = torch.Generator().manual_seed(seed)
    ids = torch.tensor([[tok.convert_tokens_to_ids("<|endoftext|>")]])
    for _ in range(max_steps):
        scores = proc(ids, torch.randn((1, len(bias)), generator=gen) + bias)
        assert torch.isinf(scores[0, len(tok) :]).all()  # padding ids are never allowed
        nxt = int(scores[0].argmax())
        assert torch.isfinite(scores[0, nxt]), "the mask left no token"
        if nxt == eos:
            return tok.decode(ids[0, 1:].tolist())
        ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    raise AssertionError("no end of generation")
