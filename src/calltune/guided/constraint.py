"""``build_constraint``: a request's tools + tool choice → a grammar the engines enforce."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import xgrammar as xgr

from . import tokenizer_info as tinfo
from .errors import GuidedError
from .processors import LlamaCppGrammarProcessor, make_hf_processor
from .schema import loosened_tool, normalize_schema, tool_function, tool_is_strict, unenforceable_keywords
from .syntax import structural_tag

_COMPILERS: dict[int, tuple[xgr.TokenizerInfo, xgr.GrammarCompiler]] = {}
#: compiled grammars by (tokenizer, structure): requests with the same tools reuse them
_COMPILED: OrderedDict[tuple[int, str], tuple[xgr.TokenizerInfo, xgr.CompiledGrammar]] = OrderedDict()
COMPILED_CACHE_SIZE = 64
_LOCK = threading.Lock()


def _compiler(info: xgr.TokenizerInfo) -> xgr.GrammarCompiler:
    with _LOCK:
        hit = _COMPILERS.get(id(info))
        if hit is None or hit[0] is not info:
            hit = (info, xgr.GrammarCompiler(info, max_threads=1))
            _COMPILERS[id(info)] = hit
        return hit[1]


@dataclass
class Constraint:
    """A compiled-on-demand grammar for one request's tool calling.

    ``structure`` is the xgrammar structural tag (JSON-able). Engines get a logits
    processor from :meth:`llamacpp_logits_processor` (llama-cpp-python) or
    :meth:`hf_logits_processor` (transformers), or from :meth:`logits_processor_for`.
    """

    format_name: str
    mode: str
    tool_names: list[str]
    parallel: bool
    structure: dict[str, Any]
    _grammar: xgr.Grammar | None = field(default=None, repr=False)
    _key: str | None = field(default=None, repr=False)
    #: seconds the last compile took (0.0 when it came from the cache)
    compile_s: float = field(default=0.0, repr=False)
    #: the processor made by the last engine hook call (its ``stats`` hold the masking time)
    last_processor: Any = field(default=None, repr=False)
    #: the JSON Schema a text answer follows (``response_format``), None when text is free
    response_schema: dict[str, Any] | None = None

    @property
    def allows_calls(self) -> bool:
        """Whether the turn may hold calls (False: it is an answer only)."""
        return bool(self.tool_names) and self.mode != "none"

    # -- grammar --------------------------------------------------------------------

    @property
    def grammar(self) -> xgr.Grammar:
        if self._grammar is None:
            try:
                self._grammar = xgr.Grammar.from_structural_tag(
                    json.dumps(self.structure, ensure_ascii=False)
                )
            except Exception as exc:  # InvalidStructuralTagError, RuntimeError from the EBNF parser
                raise GuidedError(f"could not build the {self.format_name} grammar: {exc}") from exc
        return self._grammar

    def ebnf(self) -> str:
        """The grammar in GBNF form (for display and debugging)."""
        return str(self.grammar)

    def compile(self, info: xgr.TokenizerInfo) -> xgr.CompiledGrammar:
        """The grammar compiled for a tokenizer (cached per tokenizer and structure)."""
        key = (id(info), self.key)
        with _LOCK:
            hit = _COMPILED.get(key)
            if hit is not None and hit[0] is info:
                _COMPILED.move_to_end(key)
                self.compile_s = 0.0
                return hit[1]
        t0 = time.perf_counter()
        compiled = _compiler(info).compile_grammar(self.grammar)
        self.compile_s = time.perf_counter() - t0
        with _LOCK:
            _COMPILED[key] = (info, compiled)
            while len(_COMPILED) > COMPILED_CACHE_SIZE:
                _COMPILED.popitem(last=False)
        return compiled

    @property
    def key(self) -> str:
        """The structure as canonical JSON (equal keys = the same grammar)."""
        if self._key is None:
            self._key = json.dumps(self.structure, sort_keys=True, ensure_ascii=False)
        return self._key

    def matches(self, text: str, *, complete: bool = True) -> bool:
        """Whether ``text`` is allowed by the grammar (``complete``: and may end there).

        Checked byte by byte, independent of any model's tokenizer."""
        matcher = xgr.GrammarMatcher(self.compile(tinfo.byte_tokenizer_info()))
        if text and not matcher.accept_string(text.encode("utf-8")):
            return False
        return matcher.is_completed() if complete else True

    # -- engine hooks ----------------------------------------------------------------

    def llamacpp_logits_processor(self, llama: Any) -> LlamaCppGrammarProcessor:
        """A processor for ``llama_cpp.Llama.generate(..., logits_processor=[...])``."""
        info = tinfo.from_llama(llama)
        self.last_processor = LlamaCppGrammarProcessor(self.compile(info), int(llama.n_vocab()))
        return self.last_processor

    def hf_logits_processor(
        self, hf_tokenizer: Any, vocab_size: int | None = None, stop_token_ids: list[int] | None = None
    ) -> Any:
        """A transformers ``LogitsProcessor`` (batch size 1). ``vocab_size``: the model's
        (``model.config.vocab_size``; may exceed ``len(tokenizer)``)."""
        size = vocab_size or len(hf_tokenizer)
        info = tinfo.from_huggingface(hf_tokenizer, vocab_size=size, stop_token_ids=stop_token_ids)
        self.last_processor = make_hf_processor(self.compile(info), size)
        return self.last_processor

    def logits_processor_for(self, engine: Any) -> Any:
        """The processor for a calltune engine; :class:`EngineError` when it cannot constrain."""
        from ..engines.base import EngineError

        llama = getattr(engine, "llama", None)
        if llama is not None:
            return self.llamacpp_logits_processor(llama)
        hf_tok = getattr(engine, "hf_tokenizer", None)
        if hf_tok is not None:
            model = getattr(engine, "model", None)
            vocab = getattr(getattr(model, "config", None), "vocab_size", None)
            ids = getattr(engine, "guided_stop_ids", None)
            stops = ids() if callable(ids) else tinfo.default_stop_ids(hf_tok)
            return self.hf_logits_processor(hf_tok, vocab_size=vocab, stop_token_ids=stops)
        raise EngineError(
            f"engine {type(engine).__name__} ({getattr(engine, 'model_id', '?')}) cannot apply guided "
            "decoding; use a llama.cpp or transformers engine, or turn guided decoding off"
        )

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.format_name,
            "mode": self.mode,
            "tools": self.tool_names,
            "parallel": self.parallel,
            "response_schema": self.response_schema,
        }


def _canonical_format_name(name: str) -> str:
    try:
        from ..formats import get_format

        return get_format(name).name
    except Exception:  # unknown names are reported by syntax.structural_tag
        return name.strip().lower()


def parse_mode(mode: Any) -> str:
    """A mode or an OpenAI ``tool_choice`` value as ``auto|required|none|named:<t>`` (the spelling
    kept in :attr:`Constraint.mode`); parsed by :func:`calltune.turn.parse_tool_choice`."""
    from ..turn.choice import ToolChoiceError, parse_tool_choice

    try:
        return str(parse_tool_choice(mode))
    except ToolChoiceError as exc:
        raise GuidedError(f"unknown guided mode {mode!r}: {exc}") from None


def build_constraint(
    fmt: Any,
    tools: list[dict[str, Any]] | None,
    mode: Any = "auto",
    parallel: bool = True,
    *,
    strict_only: bool = False,
    response_schema: dict[str, Any] | None = None,
) -> Constraint | None:
    """A :class:`Constraint` that makes the model's turn follow ``mode``.

    ``fmt``: a :class:`~calltune.formats.base.ChatFormat` or its name (``hermes``,
    ``chatglm3``, ``glm4``). ``tools``: OpenAI tool dicts. ``mode``: ``auto`` |
    ``required`` | ``none`` | a :class:`~calltune.turn.Named` choice (or any spelling
    :func:`calltune.turn.parse_tool_choice` accepts).
    ``parallel``: allow several calls in one turn.

    ``strict_only``: enforce the argument schemas of the tools marked ``strict: true``
    (OpenAI's contract) only; the other tools stay callable with any JSON object as
    arguments. Returns None when no tool is strict (and there is no ``response_schema``).

    ``response_schema``: a JSON Schema the text answer of an ``auto`` or ``none`` turn must
    follow (OpenAI's ``response_format``): the answer is one JSON value, or (``auto``) calls.
    A schema with keywords the grammar cannot enforce
    (:func:`~calltune.guided.schema.unenforceable_keywords`) is a :class:`GuidedError`.

    Returns None when there is nothing to constrain (``auto`` with no tools). ``none``
    returns a constraint under which no call can start (the caller may also leave
    the tools out of the prompt). Raises :class:`GuidedError` for an unknown mode,
    format or tool, or a schema the format cannot express.
    """
    name = fmt if isinstance(fmt, str) else getattr(fmt, "name", None)
    if not isinstance(name, str) or not name:
        raise GuidedError(f"not a chat format: {fmt!r}")
    name = _canonical_format_name(name)
    from ..turn.choice import Named, ToolChoiceError, parse_tool_choice

    try:
        choice = parse_tool_choice(mode)
    except ToolChoiceError as exc:
        raise GuidedError(f"unknown guided mode {mode!r}: {exc}") from None
    mode = str(choice)
    tools = list(tools or [])
    names = [tool_function(t)["name"] for t in tools]
    answers = response_schema is not None and mode in ("auto", "none")
    skipped = unenforceable_keywords(response_schema) if response_schema is not None else []
    if skipped:
        raise GuidedError("the grammar cannot enforce these schema keywords: " + ", ".join(skipped[:8]))
    if strict_only:
        if not answers and (not any(tool_is_strict(t) for t in tools) or mode == "none"):
            return None
        # non-strict tools stay callable, with any JSON object as arguments
        tools = [t if tool_is_strict(t) else loosened_tool(t) for t in tools]
    if isinstance(choice, Named):
        want = choice.name
        if want not in names:
            raise GuidedError(
                f"tool_choice names {want!r}, which is not among the tools ({', '.join(names) or 'none'})"
            )
        tools = [t for t in tools if tool_function(t)["name"] == want]
        names = [want]
    elif mode == "required" and not tools:
        raise GuidedError("tool_choice 'required' needs at least one tool")
    elif mode == "auto" and not tools and not answers:
        return None
    grammar_schema = normalize_schema(response_schema, aliases=False) if answers else None
    st = structural_tag(name, tools, mode, parallel, grammar_schema)
    c = Constraint(format_name=name, mode=mode, tool_names=names, parallel=parallel, structure=st)
    c.response_schema = response_schema if answers else None
    c.grammar  # noqa: B018 - build now, so a bad schema is reported here, not mid-generation
    return c
