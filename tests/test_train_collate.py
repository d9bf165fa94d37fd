"""Dynamic padding, packing isolation (logits packed == alone) and the labelled-positions loss."""

from __future__ import annotations

import pytest
import torch
from train_helpers import glm_tokenizer, tiny_model

from calltune.train.collate import Collator, batch_tokens, make_units, pack_items
from calltune.train.encode import IGNORE, encode_sample
from calltune.train.loss import lm_loss

# needs the real 262k-token Gemma 3 tokenizer (~10 s to load, ~30 s the first time)
pytestmark = pytest.mark.slow


def item(ids, labels=None):
    return {"input_ids": ids, "labels": labels if labels is not None else list(ids)}


def test_dynamic_padding_pads_to_the_longest_only():
    c = Collator("pad", pad_id=0)
    b = c([item([5, 6, 7]), item([8, 9], [IGNORE, 9])])
    assert b["input_ids"].tolist() == [[5, 6, 7], [8, 9, 0]]
    assert b["labels"].tolist() == [[5, 6, 7], [IGNORE, 9, IGNORE]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch_tokens(b) == (5, 6, 4)
    m = Collator("max", pad_id=0, max_length=6)([item([5, 6, 7])])
    assert m["input_ids"].shape == (1, 6) and batch_tokens(m) == (3, 6, 3)


def test_packing_rows_positions_and_boundary_labels():
    items = [item([1, 2, 3]), item([4, 5]), item([6, 7, 8, 9]), item([10])]
    packs = pack_items(items, max_length=5, seed=None)
    assert [[list(x["input_ids"]) for x in p] for p in packs] == [[[1, 2, 3], [4, 5]], [[6, 7, 8, 9], [10]]]
    b = Collator("pack", pad_id=0)([packs[0], [items[3]]])
    assert b["input_ids"].tolist() == [[1, 2, 3, 4, 5], [10, 0, 0, 0, 0]]
    assert b["position_ids"].tolist() == [[0, 1, 2, 0, 1], [0, 0, 1, 2, 3]]
    # the first token of every packed sample has no label: nothing is predicted across a boundary
    assert b["labels"].tolist() == [[IGNORE, 2, 3, IGNORE, 5], [IGNORE] * 5]
    assert "attention_mask" not in b
    assert batch_tokens(b) == (6, 10, 3)
    assert len(make_units(items, "pack", 5)) == 2 and make_units(items, "pad", None) == items


@pytest.fixture(scope="module")
def model_and_samples():
    tok = glm_tokenizer()
    model = tiny_model(len(tok), seed=1)
    convs = [
        [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi! how can I help?"}],
        [
            {"role": "user", "content": "2+2"},
            {"role": "tool", "name": "add", "parameters": {"a": 2, "b": 2}, "observation": 4},
            {"role": "assistant", "content": "4"},
        ],
        [{"role": "user", "content": "今天天气怎么样？"}, {"role": "assistant", "content": "我不知道。"}],
    ]
    samples = [encode_sample({"conversations": c}, tok) for c in convs]
    return model, samples


def test_packed_logits_equal_logits_alone(model_and_samples):
    model, samples = model_and_samples
    packed = Collator("pack", pad_id=0)([samples])
    with torch.no_grad():
        # use_cache=False as in training: with a KV cache transformers does not isolate packed samples
        out_packed = model(
            input_ids=packed["input_ids"], position_ids=packed["position_ids"], use_cache=False
        ).logits[0]
        start = 0
        for s in samples:
            ids = torch.tensor([s.input_ids])
            alone = model(input_ids=ids, use_cache=False).logits[0]
            n = len(s.input_ids)
            torch.testing.assert_close(out_packed[start : start + n], alone, rtol=1e-4, atol=1e-4)
            start += n
        # sanity: without position ids the samples would see each other, and logits differ
        leaky = model(input_ids=packed["input_ids"], use_cache=False).logits[0]
        n0 = len(samples[0].input_ids)
        assert not torch.allclose(
            leaky[n0 : n0 + len(samples[1].input_ids)],
            out_packed[n0 : n0 + len(samples[1].input_ids)],
            atol=1e-3,
        )


@pytest.mark.parametrize("mode", ["pad", "pack"])
def test_labelled_loss_equals_full_loss_and_gradients(model_and_samples, mode):
    model, samples = model_and_samples
    batch = Collator(mode, pad_id=0)([samples] if mode == "pack" else samples)
    model.zero_grad()
    full, n_full = lm_loss(model, batch, "full")
    full.backward()
    g_full = model.get_input_embeddings().weight.grad.clone()
    model.zero_grad()
    lab, n_lab = lm_loss(model, batch, "labelled")
    lab.backward()
    g_lab = model.get_input_embeddings().weight.grad.clone()
    model.zero_grad()
    assert n_full == n_lab == sum(s.n_labels for s in samples) - (0 if mode == "pad" else 0)
    torch.testing.assert_close(lab, full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(g_lab, g_full, rtol=1e-4, atol=1e-6)


def test_loss_mode_is_checked(model_and_samples):
    model, samples = model_and_samples
    with pytest.raises(ValueError, match="loss mode must be one of"):
        lm_loss(model, Collator("pad")(samples), "chunked")
