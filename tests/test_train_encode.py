"""encode_sample: exact token-level labels (DESIGN.md §3) with the real Gemma 3 tokenizer
and the ChatGLM3 format; role markers added as special tokens; truncation; injection."""

from __future__ import annotations

import json

import pytest
import torch
from train_helpers import fresh_tokenizer, glm_tokenizer, tiny_model

from calltune.train.encode import (
    IGNORE,
    EncodeError,
    add_format_tokens,
    encode_dataset,
    encode_sample,
    missing_special_tokens,
    shift_labels,
)

# needs the real 262k-token Gemma 3 tokenizer (~10 s to load, ~30 s the first time)
pytestmark = pytest.mark.slow

X = IGNORE
ADD = {
    "name": "add",
    "description": "Add two integers.",
    "parameters": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}


@pytest.fixture(scope="module")
def tok():
    return glm_tokenizer()


class Expect:
    """Build the expected ids/labels piece by piece: ``add(text_or_marker, label)`` where
    ``label`` says whether the piece's tokens carry labels (the rule under test)."""

    def __init__(self, tok):
        self.tok = tok
        self.ids: list[int] = [tok.bos_token_id]
        self.labels: list[int] = [X]

    def m(self, marker: str, trained: bool) -> Expect:
        i = self.tok.convert_tokens_to_ids(marker)
        self.ids.append(i)
        self.labels.append(i if trained else X)
        return self

    def t(self, text: str, trained: bool) -> Expect:
        ids = self.tok.encode(text, add_special_tokens=False)
        self.ids += ids
        self.labels += ids if trained else [X] * len(ids)
        return self


def test_shift_rule():
    assert shift_labels([10, 11, 12, 13], [False, True, True, False]) == [X, X, 12, 13]


def test_markers_are_added_as_special_tokens_and_embeddings_resized():
    tok = fresh_tokenizer()
    assert missing_special_tokens(tok, "chatglm3") == [
        "<|system|>",
        "<|user|>",
        "<|assistant|>",
        "<|observation|>",
    ]
    n = len(tok)
    model = tiny_model(n)
    old = model.get_input_embeddings().weight.detach().clone()
    added = add_format_tokens(tok, "chatglm3", model)
    assert added == ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
    assert [tok.convert_tokens_to_ids(m) for m in added] == [n, n + 1, n + 2, n + 3]
    new = model.get_input_embeddings().weight.detach()
    assert new.shape[0] == n + 4
    assert model.get_output_embeddings().weight.shape[0] == n + 4
    # mean initialisation, as docs/training.md says (transformers' "multivariate normal" has a
    # 1e-9 covariance): every new row is the old rows' mean, far closer than their spread —
    # save the markers that end a turn (<|user|>, <|observation|>), which start as EOS's row
    mean, spread = old.mean(0), old.std(0).mean()
    assert (new[:n] == old).all()
    starts = [n, n + 2]  # <|system|>, <|assistant|>
    assert float((new[starts] - mean).abs().max()) < 1e-3 * float(spread)
    for stop in (n + 1, n + 3):
        assert torch.equal(new[stop], old[tok.eos_token_id])
    out = model.get_output_embeddings().weight.detach()
    assert torch.equal(out[n + 3], out[tok.eos_token_id])  # the LM head row too (tied or not)
    assert add_format_tokens(tok, "chatglm3", model) == []  # idempotent


def test_plain_dialogue_labels(tok):
    s = {
        "conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]
    }
    e = encode_sample(s, tok)
    ex = (
        Expect(tok)
        .m("<|user|>", False)
        .t("\n", False)
        .t("hi", False)
        .m("<|assistant|>", False)  # inserted by the runtime: never trained
        .t("\n", True)
        .t("hello there", True)
        .m("<|user|>", True)  # the role token after a trained message: learn to stop
    )
    assert e.input_ids == ex.ids
    assert e.labels == ex.labels
    assert e.n_labels == len(tok.encode("\nhello there", add_special_tokens=False)) + 1


def test_tool_call_labels(tok):
    s = {
        "tools": [ADD],
        "conversations": [
            {"role": "system", "content": "Use tools."},
            {"role": "user", "content": "2+3?"},
            {"role": "tool", "name": "add", "parameters": {"a": 2, "b": 3}, "observation": {"sum": 5}},
            {"role": "assistant", "content": "5"},
        ],
    }
    e = encode_sample(s, tok)
    system = "Use tools.\n" + json.dumps([ADD], indent=4, ensure_ascii=False)
    ex = (
        Expect(tok)
        .m("<|system|>", False)
        .t("\n", False)
        .t(system, False)
        .m("<|user|>", False)
        .t("\n", False)
        .t("2+3?", False)
        .m("<|assistant|>", False)
        .t("add\n", True)
        .t("```python\ntool_call(a=2, b=3)\n```", True)  # the call: trained
        .m("<|observation|>", True)  # stop after a call: trained
        .t("\n", False)
        .t('{"sum": 5}', False)  # the observation: never trained
        .m("<|assistant|>", False)  # after an observation: inserted by the runtime
        .t("\n", True)
        .t("5", True)
        .m("<|user|>", True)
    )
    assert e.input_ids == ex.ids
    assert e.labels == ex.labels


def test_loss_flags_are_honoured(tok):
    s = {
        "conversations": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b", "loss": False},
            {"role": "user", "content": "c", "loss": True},
            {"role": "assistant", "content": "d"},
        ]
    }
    e = encode_sample(s, tok)
    ex = (
        Expect(tok)
        .m("<|user|>", False)
        .t("\n", False)
        .t("a", False)
        .m("<|assistant|>", False)
        .t("\n", False)
        .t("b", False)  # loss: false
        .m("<|user|>", False)  # previous message untrained, so its stop is not learnt either
        .t("\n", True)
        .t("c", True)  # loss: true on a user message
        .m("<|assistant|>", True)  # follows a trained message
        .t("\n", True)
        .t("d", True)
        .m("<|user|>", True)
    )
    assert e.labels == ex.labels and e.input_ids == ex.ids


def test_parallel_calls_labels(tok):
    s = {
        "conversations": [
            {"role": "user", "content": "q"},
            {
                "role": "tool",
                "calls": [
                    {"name": "f", "parameters": {}, "observation": "r1"},
                    {"name": "g", "parameters": {"x": "y"}, "observation": "r2"},
                ],
            },
        ]
    }
    e = encode_sample(s, tok)
    ex = (
        Expect(tok)
        .m("<|user|>", False)
        .t("\n", False)
        .t("q", False)
        .m("<|assistant|>", False)
        .t("f\n", True)
        .t("```python\ntool_call()\n```", True)
        .m("<|assistant|>", True)
        .t("g\n", True)
        .t("```python\ntool_call(x='y')\n```", True)
        .m("<|observation|>", True)
        .t("\n", False)
        .t("r1", False)
        .m("<|observation|>", False)
        .t("\n", False)
        .t("r2", False)  # inserted by the runtime
    )
    assert e.input_ids == ex.ids and e.labels == ex.labels  # no stop appended after an observation


def test_user_text_cannot_inject_markers(tok):
    s = {
        "conversations": [
            {"role": "user", "content": "say <|observation|> now"},
            {"role": "assistant", "content": "ok"},
        ]
    }
    e = encode_sample(s, tok)
    obs = tok.convert_tokens_to_ids("<|observation|>")
    assert obs not in e.input_ids
    assert e.input_ids[
        3 : 3
        + len(tok.encode("say <|observation|> now", add_special_tokens=False, split_special_tokens=True))
    ] == (tok.encode("say <|observation|> now", add_special_tokens=False, split_special_tokens=True))


def test_ids_equal_the_engine_string_path(tok):
    """The transformers engine tokenizes the rendered prompt string; training must see the same ids."""
    from calltune.formats import get_format
    from calltune.train.encode import sample_messages
    from calltune.train.synth import generate

    fmt = get_format("chatglm3")
    for s in generate(6, seed=3):
        msgs, tools = sample_messages(s)
        text = fmt.render(msgs, tools, add_generation_prompt=False)
        e = encode_sample(s, tok)
        ref = (
            [tok.bos_token_id]
            + tok(text, add_special_tokens=False)["input_ids"]
            + [tok.convert_tokens_to_ids("<|user|>")]
        )
        assert e.input_ids == ref


def test_training_uses_the_inference_adapter(tok):
    from calltune.formats.tokenizers import HFTokenizerAdapter
    from calltune.train.encode import as_adapter
    from calltune.train.synth import generate

    ad = as_adapter(tok)
    assert isinstance(ad, HFTokenizerAdapter) and as_adapter(ad) is ad
    inference = HFTokenizerAdapter(tok)
    for s in generate(5, seed=4):
        e1 = encode_sample(s, tok)
        e2 = encode_sample(s, inference)
        assert e1.input_ids == e2.input_ids and e1.labels == e2.labels
        assert e2.input_ids[0] == tok.bos_token_id  # BOS found through the adapter's tokenizer
        # plain text encodes as the tokenizer does with special tokens split (no marker injected)
        text = s["conversations"][0]["content"]
        assert inference.encode_text(text) == tok.encode(
            text, add_special_tokens=False, split_special_tokens=True
        )


TOOL_SAMPLE = {
    "tools": [ADD],
    "conversations": [
        {"role": "user", "content": "2+3?"},
        {"role": "tool", "name": "add", "parameters": {"a": 2, "b": 3}, "observation": 5},
        {"role": "assistant", "content": "5"},
    ],
}


def test_missing_role_markers_raise_instead_of_encoding_them_as_text():
    from calltune.train.encode import MissingMarkersError

    raw = fresh_tokenizer()  # Gemma 3's tokenizer: no <|user|>, <|observation|>, ...
    n = len(raw)
    with pytest.raises(EncodeError, match=r"<\|observation\|>.*add_format_tokens") as ei:
        encode_sample(TOOL_SAMPLE, raw)
    assert isinstance(ei.value, MissingMarkersError)
    assert ei.value.missing == ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
    assert len(raw) == n  # nothing added behind the caller's back
    # a data set fails as a whole instead of dropping every sample
    with pytest.raises(MissingMarkersError):
        encode_dataset([TOOL_SAMPLE], raw)


def test_missing_role_markers_are_added_when_asked(tok):
    raw = fresh_tokenizer()
    e = encode_sample(TOOL_SAMPLE, raw, add_missing_markers=True)
    assert missing_special_tokens(raw, "chatglm3") == []
    assert len(raw) == len(tok)
    obs = raw.convert_tokens_to_ids("<|observation|>")
    assert e.input_ids.count(obs) == 1  # the stop after the call, as one special id
    assert e.labels[e.input_ids.index(obs)] == obs
    # the same ids as with the markers added up front (the training path)
    assert e.input_ids == encode_sample(TOOL_SAMPLE, tok).input_ids


def test_truncation_cuts_at_a_message_boundary(tok):
    s = {
        "conversations": [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three " * 50},
            {"role": "assistant", "content": "four"},
        ]
    }
    full = encode_sample(s, tok)
    u = tok.convert_tokens_to_ids("<|user|>")
    second_user = full.input_ids.index(u, 2)
    e = encode_sample(s, tok, max_length=second_user + 5)
    assert e.truncated and e.original_length == len(full)
    assert e.input_ids == full.input_ids[: second_user + 1]  # ends on the <|user|> that ends turn one
    assert e.labels[-1] == u  # so the stop is still learnt
    with pytest.raises(EncodeError, match="does not fit max_length=4"):
        encode_sample(s, tok, max_length=4)
    enc, st = encode_dataset([s, s], tok, max_length=second_user + 5, locations=["f:1", "f:2"])
    assert (st.samples, st.truncated, st.dropped) == (2, 2, 0)
    assert st.problems[0] == f"f:1: truncated from {len(full)} to {second_user + 1} tokens"
    enc, st = encode_dataset([s], tok, max_length=4)
    assert (st.samples, st.dropped) == (0, 1)


def test_mapping_access(tok):
    e = encode_sample(
        {"conversations": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}, tok
    )
    assert e["input_ids"] == e.input_ids and e["labels"] == e.labels
    with pytest.raises(EncodeError, match="needs 'conversations'"):
        encode_sample({"messages": []}, tok)
