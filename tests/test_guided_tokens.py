"""Guided decoding at the token level, with real tokenizers and no model.

- The default model's vocabulary (Qwen2.5, 151,936 byte-level BPE tokens, read through
  llama.cpp with ``vocab_only``): valid calls tokenized the way the model would write
  them are accepted token by token, invalid ones are rejected.
- A stand-in "model" that emits random logits, pushed towards closing characters,
  decodes through the llama.cpp and transformers logits processors: every output is a
  call that the format parses and that validates against the tool's schema, and the
  processor lets only end-of-generation tokens through once the grammar is complete.
"""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
from guided_fixtures import (
    BOOK,
    FULL,
    INVALID,
    REQ,
    STRICT_ONLY,
    TOOLS,
    TURN,
    random_decode,
    trained_hf_tokenizer,
)

from calltune.formats import get_format
from calltune.guided import build_constraint
from calltune.guided.schema import normalize_schema
from calltune.guided.tokenizer_info import from_llama

llama_cpp = pytest.importorskip("llama_cpp")


@pytest.fixture(scope="module")
def qwen_vocab():
    """The default model's tokenizer only (no weights): a vocab-only llama.cpp model."""
    from calltune import models

    if not models.default_parts_installed():
        pytest.skip("the default model's part packages are not installed")
    path = models.default_model_path(progress=False)
    llama = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    yield llama
    llama.close()


def _tokens(llama, text: str) -> list[int]:
    # special=True: <tool_call>, <|im_end|> become their single ids, as the model writes them
    return list(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def _accepts_tokens(constraint, llama, text: str) -> bool:
    import xgrammar as xgr

    compiled = constraint.compile(from_llama(llama))
    m = xgr.GrammarMatcher(compiled)
    return all(m.accept_token(t) for t in _tokens(llama, text)) and m.is_completed()


def test_qwen_vocab_info(qwen_vocab) -> None:
    info = from_llama(qwen_vocab)
    assert info.vocab_size == 151936
    im_end = _tokens(qwen_vocab, "<|im_end|>")
    assert len(im_end) == 1 and im_end[0] in info.stop_token_ids
    assert info.decoded_vocab[_tokens(qwen_vocab, "<tool_call>")[0]] == b"<tool_call>"


@pytest.mark.parametrize("fmt", sorted(TURN))
def test_token_level_accepts_valid_and_rejects_invalid(qwen_vocab, fmt: str) -> None:
    c = build_constraint(fmt, TOOLS, "required")
    for args in (REQ, FULL):
        text = TURN[fmt]([("book_hotel", args)])
        if fmt == "hermes":
            text += "<|im_end|>"  # the stop token ends the turn
        assert _accepts_tokens(c, qwen_vocab, text), text
    for args, why in INVALID:
        text = TURN[fmt]([("book_hotel", args)])
        assert not _accepts_tokens(c, qwen_vocab, text), why


def test_hermes_mask_allows_stop_only_after_complete_call(qwen_vocab) -> None:
    import xgrammar as xgr

    c = build_constraint("hermes", TOOLS, "required")
    info = from_llama(qwen_vocab)
    m = xgr.GrammarMatcher(c.compile(info))
    im_end = _tokens(qwen_vocab, "<|im_end|>")[0]
    tool_call = _tokens(qwen_vocab, "<tool_call>")[0]
    bitmask = np.full((1, (info.vocab_size + 31) // 32), -1, dtype=np.int32)

    def allowed() -> np.ndarray:
        m.fill_next_token_bitmask(bitmask)
        return np.unpackbits(bitmask.view(np.uint8), bitorder="little")[: info.vocab_size].astype(bool)

    first = allowed()
    assert first[tool_call] and not first[im_end]
    assert int(first.sum()) <= 5  # "<tool_call>" or a spelling of its prefix, nothing else
    for t in _tokens(qwen_vocab, hermes_call_text("add", {"a": 1})):
        assert m.accept_token(t)
    after = allowed()
    assert after[im_end]


def hermes_call_text(name: str, args: dict) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": args}) + "\n</tool_call>"


CLOSERS = ('"', "'", "}", "]", ")", "\n", ",", "0", "1", "True", "```")


def _simulate(processor, llama, prompt_len: int, stop_ids: set[int], seed: int, max_steps: int = 400):
    """Greedy decoding of random logits through ``processor``; closing characters are favoured
    so that strings and lists end. Returns the generated ids (stop token excluded)."""
    rng = np.random.default_rng(seed)
    n = llama.n_vocab()
    boost = np.zeros(n, dtype=np.float32)
    pieces = {i: llama.detokenize([i], special=True) for i in range(min(n, 1000))}
    for i, p in pieces.items():
        if p.decode("utf-8", "replace") in CLOSERS:
            boost[i] = 4.0
    for i in stop_ids:
        boost[i] = 4.0
    ids = list(range(prompt_len))  # stand-in prompt tokens
    out: list[int] = []
    for _ in range(max_steps):
        scores = rng.normal(size=n).astype(np.float32) + boost
        scores = processor(np.array(ids, dtype=np.intc), scores)
        tok = int(np.argmax(scores))
        assert np.isfinite(scores[tok]), "the mask left no token"
        if tok in stop_ids:
            return out, tok
        ids.append(tok)
        out.append(tok)
    raise AssertionError("generation did not end within max_steps")


@pytest.mark.parametrize("fmt", sorted(TURN))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_llamacpp_processor_always_yields_schema_valid_calls(qwen_vocab, fmt: str, seed: int) -> None:
    # one call: a random "model" would otherwise go on making parallel calls
    c = build_constraint(fmt, TOOLS, "required", parallel=False)
    proc = c.llamacpp_logits_processor(qwen_vocab)
    stops = set(from_llama(qwen_vocab).stop_token_ids)
    out, stop = _simulate(proc, qwen_vocab, prompt_len=7, stop_ids=stops, seed=seed)
    text = qwen_vocab.detokenize(out, special=True).decode("utf-8")
    assert c.matches(text)
    parsed = get_format(fmt).parse(text.removesuffix("<|observation|>"))
    assert parsed.tool_calls and not parsed.errors, text
    schemas = {t["function"]["name"]: normalize_schema(t["function"]["parameters"]) for t in TOOLS}
    for call in parsed.tool_calls:
        jsonschema.validate(call.arguments, schemas[call.name])
    # once complete, only end-of-generation tokens remain
    assert proc.matcher.is_completed()
    assert proc.stats["calls"] == len(out) + 1


def test_llamacpp_processor_named_tool(qwen_vocab) -> None:
    c = build_constraint("hermes", TOOLS, "named:add", parallel=False)
    proc = c.llamacpp_logits_processor(qwen_vocab)
    stops = set(from_llama(qwen_vocab).stop_token_ids)
    out, _ = _simulate(proc, qwen_vocab, prompt_len=3, stop_ids=stops, seed=5)
    parsed = get_format("hermes").parse(qwen_vocab.detokenize(out, special=True).decode())
    assert [tc.name for tc in parsed.tool_calls] == ["add"]
    assert isinstance(parsed.tool_calls[0].arguments["a"], int | float)


def test_strict_only_fixture_sanity() -> None:
    assert STRICT_ONLY <= {why for _, why in INVALID}
    assert BOOK["required"][0] == "city"


def test_hf_processor_forces_a_valid_call() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    corpus = [hermes_call_text("add", {"a": i, "b": i * 2.5}) for i in range(50)]
    tok = trained_hf_tokenizer(
        corpus + ["The quick brown fox jumps over the lazy dog.", "tool_call(city='Paris', nights=2)"]
    )
    c = build_constraint("hermes", TOOLS, "named:add", parallel=False)
    vocab = len(tok) + 6  # models often pad the embedding matrix past the tokenizer
    proc = c.hf_logits_processor(tok, vocab_size=vocab)
    bias = torch.zeros(vocab)
    bias[
        [i for i in range(len(tok)) if tok.decode([i]) in CLOSERS] + [tok.convert_tokens_to_ids("<|im_end|>")]
    ] = 4.0
    text = random_decode(proc, tok, bias, seed=0)
    parsed = get_format("hermes").parse(text)
    assert [tc.name for tc in parsed.tool_calls] == ["add"], text
    jsonschema.validate(parsed.tool_calls[0].arguments, normalize_schema(TOOLS[1]["function"]["parameters"]))


def test_mask_inside_python_strings_is_fast(qwen_vocab) -> None:
    """Inside a ChatGLM3 string literal the mask must come from xgrammar's precomputed tables
    (the lookahead after strings); without it each token cost ~100 ms on this vocabulary."""
    c = build_constraint("chatglm3", TOOLS, "named:book_hotel", parallel=False)
    proc = c.llamacpp_logits_processor(qwen_vocab)
    rng = np.random.default_rng(0)
    ids = list(range(3))
    n = qwen_vocab.n_vocab()
    for _ in range(60):  # random logits: the model is deep inside the city string most of the time
        scores = proc(np.array(ids, dtype=np.intc), rng.normal(size=n).astype(np.float32))
        ids.append(int(np.argmax(scores)))
    text = qwen_vocab.detokenize(ids[3:], special=True).decode("utf-8", "replace")
    assert text.startswith("book_hotel\n```python\ntool_call(city=")
    assert proc.stats["ms_per_token"] < 20.0, proc.stats
