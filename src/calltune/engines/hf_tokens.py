"""End-of-turn tokens of a transformers tokenizer."""

from __future__ import annotations

from typing import Any

#: chat markers that end a turn (ChatML, Llama 3, Gemma)
END_OF_TURN_MARKERS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>")


def default_stop_ids(tokenizer: Any) -> list[int]:
    """End-of-turn tokens a transformers tokenizer knows: the chat markers that end a turn
    (ChatML, Llama 3, Gemma) and its ``eos_token_id``."""
    stops: list[int] = []
    vocab = tokenizer.get_vocab()
    for tok in END_OF_TURN_MARKERS:
        tid = tokenizer.convert_tokens_to_ids(tok) if tok in vocab else None
        if isinstance(tid, int) and tid >= 0:
            stops.append(tid)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in stops:
        stops.append(int(tokenizer.eos_token_id))
    return stops
