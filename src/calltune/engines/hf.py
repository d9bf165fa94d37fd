"""Models on transformers: a local directory, a hub id, a GGUF file (dequantised by
transformers via ``gguf_file=``), or a calltune training output directory (base model +
PEFT adapter, or a merged model).

Generation steps the model by hand over its KV cache, one token at a time, inside the
shared decode loop (:class:`~calltune.engines.decode.LocalEngine`): stop strings are
matched on the decoded text after every token and closing the iterator stops at once.
The KV cache of the previous request is kept and reused for a shared prompt prefix
when the cache is a plain full-attention cache.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..formats.tokenizers import HFTokenizerAdapter
from .base import EngineError, SamplingParams
from .decode import LocalEngine
from .deps import require
from .hf_tokens import default_stop_ids
from .loading import detect_default_format, loading_status
from .stops import SequenceDecoder, TextDecoder

CALLTUNE_CONFIG = "calltune.json"


def _torch() -> Any:
    return require("torch", "the transformers engine", "transformers")


def _offline() -> bool:
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def pick_device(device: str | None = None) -> str:
    """``device`` if given, else "cuda" when available, else "cpu"."""
    if device:
        return device
    torch = _torch()
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: Any = None) -> Any:
    """bf16 on CUDA when supported (else fp16); on CPU bf16 when oneDNN has native bf16
    support (AVX512-BF16 / AMX), else float32."""
    torch = _torch()
    if dtype is not None:
        return getattr(torch, dtype) if isinstance(dtype, str) else dtype
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    try:
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return torch.bfloat16
    except (AttributeError, RuntimeError):
        pass
    return torch.float32


def read_calltune_config(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``calltune.json`` of a training output directory, or None."""
    f = Path(path) / CALLTUNE_CONFIG
    if not f.is_file():
        return None
    try:
        cfg = json.loads(f.read_text())
    except ValueError as e:
        raise EngineError(f"{f} is not valid JSON: {e}") from e
    if not isinstance(cfg, dict):
        raise EngineError(f"{f} must hold a JSON object")
    return cfg


def _split_gguf(ref: str, gguf_file: str | None) -> tuple[str, str | None]:
    """A path to a .gguf file → (its directory, its name)."""
    if gguf_file is None and ref.lower().endswith(".gguf") and Path(ref).expanduser().is_file():
        p = Path(ref).expanduser()
        return str(p.parent), p.name
    return ref, gguf_file


def _has_tokenizer(path: Path) -> bool:
    return any((path / n).is_file() for n in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model"))


class TransformersEngine(LocalEngine):
    """A causal LM on transformers.

    ``model``: a directory, a hub id (downloaded only when the hub is reachable; offline
    when ``HF_HUB_OFFLINE`` is set), a ``.gguf`` path, or a calltune training output dir.
    ``gguf_file``: the GGUF file name inside ``model`` (transformers dequantises it).
    ``adapter``: a PEFT adapter directory to put on top. ``device``/``dtype``: default
    CUDA bf16 when present, else CPU bf16 when the CPU has native bf16, else float32.
    """

    constraint_hook = "hf_logits_processor"

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        gguf_file: str | None = None,
        adapter: str | os.PathLike[str] | None = None,
        n_ctx: int | None = None,
        device: str | None = None,
        dtype: Any = None,
        default_format: str | None = None,
        local_files_only: bool | None = None,
        trust_remote_code: bool = False,
        progress: bool | None = None,
        model_id: str | None = None,
    ):
        _torch()  # a clear error when torch is missing
        transformers = require("transformers", "the transformers engine", "transformers")

        ref, gguf_file = _split_gguf(os.fspath(model), gguf_file)
        fmt = default_format
        tok_ref, tok_gguf = ref, gguf_file
        cfg = read_calltune_config(ref) if Path(ref).is_dir() else None
        if cfg is not None:
            fmt = fmt or cfg.get("format")
            out_dir = Path(ref)
            if cfg.get("adapter"):
                base = cfg.get("base_model")
                if not base:
                    raise EngineError(f"{out_dir / CALLTUNE_CONFIG} has adapter: true but no base_model")
                adapter = adapter or str(out_dir)
                ref, gguf_file = _split_gguf(str(base), cfg.get("gguf_file"))
            elif cfg.get("gguf_file"):
                gguf_file = cfg["gguf_file"]
            tok_ref, tok_gguf = (str(out_dir), None) if _has_tokenizer(out_dir) else (ref, gguf_file)
        if local_files_only is None:
            local_files_only = _offline() or Path(ref).expanduser().exists()

        self.device = pick_device(device)
        if dtype is None and gguf_file and not self.device.startswith("cuda"):
            dtype = "float32"  # transformers computes packed GGUF weights in float32 on the CPU
        self.dtype = pick_dtype(self.device, dtype)
        if model_id is None:
            mp = Path(os.fspath(model))
            model_id = mp.stem if mp.suffix == ".gguf" else mp.name if mp.exists() else str(model)
            if gguf_file and cfg is None and mp.is_dir():
                model_id = Path(gguf_file).stem
        self.model_id = model_id
        label = f"{ref}/{gguf_file}" if gguf_file else ref
        if gguf_file:  # read once from the GGUF, then from its converted checkpoint (gguf_hf)
            from .gguf_hf import cached_checkpoint, hf_checkpoint

            once = "" if cached_checkpoint(ref, gguf_file) else " (once; later loads read it)"
            with loading_status(f"Converting {label} to a transformers checkpoint{once}", progress):
                try:
                    ck = hf_checkpoint(ref, gguf_file, "model", local_files_only=local_files_only)
                    tk = None
                    if tok_gguf:
                        tk = hf_checkpoint(tok_ref, tok_gguf, "tokenizer", local_files_only=local_files_only)
                except OSError as e:
                    raise EngineError(f"transformers could not read {label}: {e}") from e
            if tk is not None:
                tok_ref, tok_gguf = str(tk), None
            if ck is not None:
                ref, gguf_file = str(ck), None
        common: dict[str, Any] = {
            "local_files_only": local_files_only,
            "trust_remote_code": trust_remote_code,
        }
        with loading_status(f"Loading {label} on transformers ({self.device}, {self.dtype})", progress):
            try:
                self.hf_tokenizer = transformers.AutoTokenizer.from_pretrained(
                    tok_ref, **({"gguf_file": tok_gguf} if tok_gguf else {}), **common
                )
                self.model = transformers.AutoModelForCausalLM.from_pretrained(
                    ref, **({"gguf_file": gguf_file} if gguf_file else {}), dtype=self.dtype, **common
                )
            except OSError as e:
                hint = (
                    ""
                    if not local_files_only
                    else " (offline: only local files and the local HF cache are used)"
                )
                raise EngineError(f"transformers could not load {label}{hint}: {e}") from e
            if adapter is not None:
                peft = require("peft", "loading an adapter", "train")
                # an adapter trained with added role markers saved a bigger tokenizer: match it first
                if self.model.get_input_embeddings().weight.shape[0] != len(self.hf_tokenizer):
                    self.model.resize_token_embeddings(len(self.hf_tokenizer), mean_resizing=False)
                self.model = peft.PeftModel.from_pretrained(self.model, os.fspath(adapter))
            self.model.to(self.device)
            self.model.eval()

        max_pos = getattr(self.model.config, "max_position_embeddings", None) or 32768
        self.context_length = int(min(n_ctx, max_pos) if n_ctx else max_pos)
        self.chat_template = getattr(self.hf_tokenizer, "chat_template", None)
        self.default_format = fmt or detect_default_format(self.chat_template, self.model_id)
        self.tokenizer = HFTokenizerAdapter(self.hf_tokenizer)
        self._eos = self._eos_ids()
        self._forward_kw = _forward_kwargs(self.model)
        self._lock = threading.Lock()
        self._cache: Any = None
        self._cache_ids: list[int] = []

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for src in (getattr(self.model, "generation_config", None), self.model.config, self.hf_tokenizer):
            e = getattr(src, "eos_token_id", None)
            if isinstance(e, int):
                ids.add(e)
            elif isinstance(e, (list, tuple)):
                ids.update(int(x) for x in e)
        return ids

    def guided_stop_ids(self) -> list[int]:
        """The tokens a guided output may end on: every token this engine stops on
        (generation config, model config and tokenizer eos, e.g. Gemma's <end_of_turn>)
        and the end-of-turn markers the tokenizer knows."""
        return sorted(set(default_stop_ids(self.hf_tokenizer)) | self._eos)

    # ------------------------------------------------------------------ generation

    def _prompt_ids(self, prompt: str | list[int]) -> list[int]:
        if isinstance(prompt, str):
            # a rendered prompt: its role markers are meant as special tokens
            ids = list(self.hf_tokenizer(prompt, add_special_tokens=False)["input_ids"])
        else:
            ids = [int(t) for t in prompt]
        if not ids:
            raise EngineError("empty prompt")
        bos = self._bos
        if bos is not None and ids[0] != bos:
            ids.insert(0, bos)
        return ids

    @functools.cached_property
    def _bos(self) -> int | None:
        """BOS when the tokenizer itself adds one (``add_bos_token`` is unreliable across
        tokenizer classes, e.g. False for Gemma in transformers 5); training does the same."""
        bos = self.hf_tokenizer.bos_token_id
        if bos is None:
            return None
        try:
            first = self.hf_tokenizer("a", add_special_tokens=True)["input_ids"][:1]
        except Exception:  # pragma: no cover - exotic tokenizers
            return None
        return int(bos) if first == [bos] else None

    def _call_constraint_hook(self, hook: Callable[..., Any]) -> Any:
        try:
            accepted = set(inspect.signature(hook).parameters)
        except (TypeError, ValueError):
            accepted = set()
        kw: dict[str, Any] = {}
        vocab = getattr(self.model.config, "vocab_size", None)
        if vocab and "vocab_size" in accepted:
            # the model's vocabulary may be larger than the tokenizer's (padded embeddings)
            kw["vocab_size"] = int(vocab)
        if "stop_token_ids" in accepted:
            kw["stop_token_ids"] = self.guided_stop_ids()
        return hook(self.hf_tokenizer, **kw)

    def _take_cache(self, ids: list[int]) -> tuple[Any, int]:
        """The kept KV cache cut to the longest prefix it shares with ``ids`` (at least one
        prompt token is left to evaluate), or (None, 0) when it cannot be reused."""
        cache, old = self._cache, self._cache_ids
        self._cache, self._cache_ids = None, []
        if cache is None or not old:
            return None, 0
        n = 0
        for a, b in zip(old, ids, strict=False):
            if a != b:
                break
            n += 1
        n = min(n, len(ids) - 1)
        if n <= 0:
            return None, 0
        try:
            from transformers.cache_utils import DynamicLayer

            layers = getattr(cache, "layers", None)
            if not layers or any(type(layer) is not DynamicLayer for layer in layers):
                return None, 0
            for layer in layers:
                if getattr(layer, "keys", None) is None:
                    return None, 0
                layer.keys = layer.keys[..., :n, :]
                layer.values = layer.values[..., :n, :]
            if cache.get_seq_length() != n:
                return None, 0
        except Exception:  # noqa: BLE001 - any cache layout we do not know: recompute
            return None, 0
        return cache, n

    def start_decoding(
        self, ids: list[int], params: SamplingParams, processor: Any
    ) -> tuple[Iterator[int], int]:
        torch = _torch()
        gen = None
        if params.seed is not None:
            gen = torch.Generator(device=self.device)
            gen.manual_seed(int(params.seed))
        with torch.inference_mode():
            cache, cached = self._take_cache(ids)
            if cache is None:
                from transformers import DynamicCache

                cache = DynamicCache(config=self.model.config) if _accepts_config() else DynamicCache()
        # kept at once, so the state is whole even if no token is ever asked for
        self._cache, self._cache_ids = cache, ids[:cached]
        return self._tokens(torch, ids, cache, cached, params, processor, gen), cached

    def _tokens(
        self,
        torch: Any,
        ids: list[int],
        cache: Any,
        cached: int,
        params: SamplingParams,
        processor: Any,
        gen: Any,
    ) -> Iterator[int]:
        """Sampled tokens, one forward pass each; the KV cache is kept for the next request."""
        model, cache_kw, extra = self.model, self._forward_kw["cache"], self._forward_kw["extra"]
        all_ids = torch.tensor([ids], device=self.device)
        feed = all_ids[:, cached:]
        try:
            while True:
                with torch.inference_mode():
                    out = model(input_ids=feed, use_cache=True, **{cache_kw: cache}, **extra)
                    cache = getattr(out, cache_kw, None) or cache
                    logits = out.logits[:, -1, :].float()
                    if processor is not None:
                        logits = processor(all_ids, logits)
                    nxt = _sample(torch, logits, params.temperature, params.top_p, gen)
                    all_ids = torch.cat([all_ids, torch.tensor([[nxt]], device=self.device)], dim=1)
                    feed = all_ids[:, -1:]
                yield nxt
        finally:
            # keep the cache for the next request's shared prefix
            self._cache = cache
            self._cache_ids = [int(t) for t in all_ids[0, : cache.get_seq_length()].tolist()]

    def is_eog(self, token: int) -> bool:
        return token in self._eos

    def token_text(self, token: int) -> str:
        return self._decode_ids([token])

    def text_decoder(self) -> TextDecoder:
        return SequenceDecoder(self._decode_ids)

    def _decode_ids(self, ids: Any) -> str:
        return self.hf_tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

    def reset_cache(self) -> None:
        """Forget the kept KV cache: the next request evaluates its whole prompt."""
        with self._lock:
            self._cache, self._cache_ids = None, []

    def _free(self) -> None:
        self._cache = None
        self.model = None  # type: ignore[assignment]


def _forward_kwargs(model: Any) -> dict[str, Any]:
    """How this transformers version names the KV cache argument (``cache`` since 5.x,
    ``past_key_values`` before) and whether the LM head can be limited to the last position."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(base.forward).parameters
    extra = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
    return {"cache": "cache" if "cache" in params else "past_key_values", "extra": extra}


def _accepts_config() -> bool:
    from transformers import DynamicCache

    return "config" in inspect.signature(DynamicCache.__init__).parameters


def _sample(torch: Any, logits: Any, temperature: float, top_p: float, gen: Any) -> int:
    """Greedy for temperature 0, else temperature + nucleus sampling."""
    if temperature <= 0:
        return int(torch.argmax(logits, dim=-1)[0])
    probs = torch.softmax(logits[0] / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < top_p
        keep[0] = True
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_p[keep])
        probs = probs / probs.sum()
    return int(torch.multinomial(probs, 1, generator=gen)[0])
