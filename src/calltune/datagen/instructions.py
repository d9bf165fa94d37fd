"""Instruction construction: the teacher writes user requests, with their intended calls, for
sampled tool subsets (AgentTuning's first stage).

One generation writes several requests over one shared tool list, each as a JSON *blueprint*
(``{"request": ..., "calls": [{"name": ..., "arguments": {...}}]}``), so that the cheap checks
of the filter stage can compare the trajectory with what the request was written for. Code
decides everything else: which tools are offered (distractors, near-miss siblings), the
category, the language, ids and seeds.

Categories (:data:`CATEGORIES`): ``single`` (only the tool it needs is offered), ``choice``
(the tool among its siblings and distractors), ``parallel`` (independent calls in one turn),
``sequential`` (a later call needs an earlier result), ``no_fit`` (written for a tool that is
then *not* offered: only its siblings and distractors are; the right trajectory calls nothing
and says what it cannot do), ``missing_value`` (a required value is left out: the right move
is to ask), ``multi_turn`` (a follow-up user turn that builds on the first). ``single``,
``choice`` and ``no_fit`` share one prompt: they differ only in what is offered.

The teacher's text is read with :mod:`json` (and :func:`ast.literal_eval` for Python-literal
spellings): never evaluated. A malformed or inconsistent item is a reject with a reason.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import CalltuneError
from ..tools import Tool
from ..turn.grounding import Evidence
from .library import LibraryTool
from .teacher import Reply, Teacher

CATEGORIES = ("single", "choice", "parallel", "sequential", "no_fit", "missing_value", "multi_turn")
DEFAULT_MIX: dict[str, float] = {
    "single": 2.0,
    "choice": 2.0,
    "parallel": 1.5,
    "sequential": 1.5,
    "no_fit": 1.0,
    "missing_value": 1.0,
    "multi_turn": 1.0,
}
#: the prompt each category is written with
PROMPT_KIND = {c: c for c in CATEGORIES} | {"choice": "single", "no_fit": "single"}
#: a value of a later call that comes from an earlier call's result (sequential blueprints)
PLACEHOLDER = re.compile(r"^<[^<>]{1,60}>$")


class InstructionError(CalltuneError, ValueError):
    """Settings instruction construction cannot work with (an unknown category, no tools)."""


def parse_mix(text: str | None) -> dict[str, float]:
    """``"single=2,no_fit=1"`` → weights; categories not named keep their default weight."""
    mix = dict(DEFAULT_MIX)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if name not in mix or not sep:
            raise InstructionError(
                f"--mix: expected category=weight with a category of {', '.join(CATEGORIES)}"
            )
        try:
            mix[name] = float(value)
        except ValueError:
            raise InstructionError(f"--mix: {value!r} is not a number") from None
        if mix[name] < 0:
            raise InstructionError(f"--mix: the weight of {name} is negative")
    if not any(mix.values()):
        raise InstructionError("--mix: every weight is 0")
    return mix


def is_placeholder(value: Any) -> bool:
    """A blueprint value that stands for an earlier call's result (``"<result>"``)."""
    return isinstance(value, str) and PLACEHOLDER.match(value) is not None


def stable_seed(*parts: Any) -> int:
    """A seed from ``parts`` that is the same on every run and machine (not Python's ``hash``)."""
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:4], "big")


def is_zh(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


@dataclass
class Instruction:
    """One user request to run through the agent, and what it was written for."""

    id: str
    category: str
    lang: str
    request: str
    #: names of the offered tools, in the order the agent sees them
    tools: list[str]
    #: the intended calls of every turn ``[{"name", "arguments"}]`` (None: no blueprint, e.g. a
    #: code-written environment task, which carries its own check)
    calls: list[dict[str, Any]] | None
    seed: int
    group: str
    followups: list[str] = field(default_factory=list)
    #: no_fit: the tool the request was written for (not offered); missing_value: the tool
    target: str | None = None
    #: missing_value: the required parameter the request leaves out
    missing: str | None = None
    env: str | None = None
    env_seed: int | None = None
    #: index of a code-written task in ``env.tasks(env_seed, ...)``
    task: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Instruction:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Group:
    """One teacher generation: a category, a language and the tools it writes requests for."""

    id: str
    index: int
    category: str
    lang: str
    #: the tools the requests are written for (shown to the teacher)
    focus: list[str]
    #: tools of other domains, offered as distractors
    distractors: list[str]
    seed: int
    env: str | None = None
    env_seed: int | None = None


# --------------------------------------------------------------------------- the tool pool
class ToolPool:
    """The tools requests are written for, by name, with their domains (library, files, MCP)."""

    def __init__(self, tools: Sequence[LibraryTool]):
        self.by_name: dict[str, LibraryTool] = {}
        for t in tools:
            if t.name in self.by_name:
                raise InstructionError(f"tool {t.name!r} comes from two sources")
            self.by_name[t.name] = t
        self.domains: dict[str, list[str]] = {}
        for t in tools:
            self.domains.setdefault(t.domain, []).append(t.name)

    def __len__(self) -> int:
        return len(self.by_name)

    def tool(self, name: str) -> Tool:
        return self.by_name[name].tool

    def specs(self, names: Sequence[str]) -> list[dict[str, Any]]:
        return [self.by_name[n].tool.spec() for n in names]


def sample_group(
    pool: ToolPool,
    index: int,
    category: str,
    lang: str,
    seed: int,
    block: int | None = None,
    tools_lang: str | None = None,
) -> Group:
    """Generation ``index``'s group: 2-3 tools of one domain and up to 2 distractors from other
    domains. The tools depend only on ``block`` (default: ``index``) and ``tools_lang``
    (default: ``lang``), so the generations of one block write for the same tool list and
    share their prompt prefix. Chinese-named tools are preferred for Chinese requests and left
    out of English ones."""
    block = index if block is None else block
    tl = tools_lang or lang
    rng = random.Random(stable_seed(seed, "tools", block))
    domains = sorted(pool.domains)
    # every domain once per round, in a shuffled order: coverage without luck
    rounds = random.Random(stable_seed(seed, "domains", block // len(domains)))
    order = rounds.sample(domains, len(domains))
    domain = order[block % len(domains)]
    has = {
        lg: [d for d in domains if any(pool.by_name[n].lang == lg for n in pool.domains[d])]
        for lg in ("en", "zh")
    }
    if tl == "zh" and has["zh"] and domain not in has["zh"] and rng.random() < 0.6:
        domain = rng.choice(has["zh"])
    if tl == "en" and has["en"] and domain not in has["en"]:  # Chinese-named tools go with Chinese requests
        domain = rng.choice(has["en"])
    names = list(pool.domains[domain])
    if tl == "en":
        names = [n for n in names if pool.by_name[n].lang == "en"] or names
    if tl == "zh" and any(pool.by_name[n].lang == "zh" for n in names):
        names.sort(key=lambda n: pool.by_name[n].lang != "zh")  # Chinese-named tools first
        names = names[: max(3, sum(pool.by_name[n].lang == "zh" for n in names))]
    focus = rng.sample(names, min(len(names), rng.randint(2, 3)))
    others = [n for d in sorted(pool.domains) if d != domain for n in pool.domains[d]]
    distractors = rng.sample(others, min(2, len(others)))
    return Group(
        f"g{index:04d}", index, category, lang, focus, distractors, stable_seed(seed, "group", index)
    )


def schedule(mix: Mapping[str, float], zh_share: float) -> Iterator[tuple[str, str]]:
    """``(category, lang)`` of each generation in turn: each category as often as its weight
    says (the one furthest behind its share goes next), and within each category every
    ``1/zh_share``-th generation Chinese. Deterministic, so a resumed run makes the same plan."""
    total = sum(mix.values())
    shares = {c: w / total for c, w in mix.items() if w > 0}
    done: Counter[str] = Counter()
    zh: Counter[str] = Counter()
    i = 0
    while True:
        i += 1
        cat = max(shares, key=lambda c: (shares[c] * i - done[c], shares[c], -CATEGORIES.index(c)))
        done[cat] += 1
        lang = "zh" if zh[cat] + 1 <= zh_share * done[cat] + 0.5 * (zh_share > 0) - 1e-9 else "en"
        if lang == "zh":
            zh[cat] += 1
        yield cat, lang


# --------------------------------------------------------------------------- the prompt
SYSTEM = (
    "You write realistic requests that users send to an assistant that can call the functions "
    "below. Reply with a compact JSON list only, one item per line."
)
_KIND = {
    "single": 'Each request needs exactly one call of one function: first write the call, then the request that asks for it, with every value it uses, from a user who does not know the result yet. Item: {"calls": [{"name": "...", "arguments": {...}}], "request": "..."}',
    "parallel": 'Each request needs two or more calls that do not depend on each other, made at once: first write the calls, then the request that asks for all of them, with every value they use: a question or an instruction from a user who does not know the results yet. Item: {"calls": [{"name": "...", "arguments": {...}}, {"name": "...", "arguments": {...}}], "request": "..."}',
    "sequential": 'Each request needs two calls where the second uses a value from the first call\'s result; write that value as "<result>". First write the calls, then the request: what the user says, in words, asking for both, before any result is known. Item: {"calls": [{"name": "...", "arguments": {...}}, {"name": "...", "arguments": {"...": "<result>"}}], "request": "..."}',
    "missing_value": 'Each request asks for what one function does but leaves out the value of one of its required parameters, so the assistant must ask for it. Item: {"request": "...", "tool": "...", "missing": "parameter"}',
    "multi_turn": 'Each request needs one call, and has a follow-up message the user sends after the answer that builds on it and needs another call. Item: {"request": "...", "calls": [...], "followup": "...", "followup_calls": [...]}',
}
#: 11 of 30 generations' rejects were requests that spelled the call out ("…：计算个税(monthly_income: 5000, …)")
PLAIN = "A request is in the user's own words: it never names a function or writes a call."
_LANG = {"en": "Write the requests in English.", "zh": "Write the requests in Chinese (简体中文)."}


def _type_text(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "|".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    t = schema.get("type", "any")
    if t == "array":
        return f"list[{_type_text(schema.get('items') or {})}]"
    return "|".join(t) if isinstance(t, list) else str(t)


def tool_line(spec: Mapping[str, Any]) -> str:
    """A function as one short line: ``name(req: type, opt?: type) — description``."""
    fn = spec.get("function", spec)
    params = fn.get("parameters") or {}
    req = set(params.get("required") or [])
    args = []
    for p, s in (params.get("properties") or {}).items():
        desc = (s.get("description") or "").strip()
        note = f' "{desc[:60]}"' if desc else ""
        args.append(f"{p}{'' if p in req else '?'}: {_type_text(s)}{note}")
    return f"- {fn['name']}({', '.join(args)}) — {(fn.get('description') or '').strip()[:160]}"


def instruction_prompt(
    specs: Sequence[Mapping[str, Any]], kind: str, lang: str, k: int, state: str | None = None
) -> str:
    """The user message of one generation. The tool list comes first and the task last, so
    consecutive generations over the same tools share their prefix (llama.cpp's KV cache)."""
    head = "Functions:\n" + "\n".join(tool_line(s) for s in specs)
    if state:
        head += f"\n\nCurrent state:\n{state.strip()[:1200]}"
    return f"{head}\n\nWrite {k} different requests. {_KIND[kind]} {PLAIN} {_LANG[lang]}"


def reply_schemas(kind: str, specs: Sequence[Mapping[str, Any]], k: int) -> list[dict[str, Any]]:
    """JSON Schemas of a reply of ``k`` blueprints of ``kind`` over ``specs``, strictest first
    (:meth:`Teacher.ask` enforces the first its grammar can express): the number of calls the
    kind needs (the small teacher wrote one call for most parallel and sequential requests),
    names among the functions shown, a ``missing_value`` among its tool's required parameters
    (it named optional ones), and each function's own arguments schema — then the same
    with any JSON object as arguments. ``sequential``: two calls, the second with one parameter
    set to ``"<result>"`` (in place of its type), the loose schema any two to four objects. What
    a grammar cannot check (values stated in the request) stays with :func:`read_item`."""

    def calls(strict: bool, lo: int, hi: int) -> dict[str, Any]:
        options = []
        for spec in specs:
            fn = spec.get("function", spec)
            args = fn.get("parameters") or {"type": "object"} if strict else {"type": "object"}
            options.append(
                {
                    "type": "object",
                    "properties": {"name": {"const": fn["name"]}, "arguments": args},
                    "required": ["name", "arguments"],
                }
            )
        item = options[0] if len(options) == 1 else {"anyOf": options}
        return {"type": "array", "items": item, "minItems": lo, "maxItems": hi}

    def item(strict: bool) -> dict[str, Any]:
        text = {"type": "string"}
        if kind == "missing_value":  # the missing value is one of the named tool's required ones
            options = []
            for spec in specs:
                fn = spec.get("function", spec)
                required = list((fn.get("parameters") or {}).get("required") or [])
                if required:
                    props = {"request": text, "tool": {"const": fn["name"]}, "missing": {"enum": required}}
                    options.append({"type": "object", "properties": props, "required": list(props)})
            if options:
                return options[0] if len(options) == 1 else {"anyOf": options}
            names = [spec.get("function", spec)["name"] for spec in specs]
            props: dict[str, Any] = {"request": text, "tool": {"enum": names}, "missing": text}
        elif kind == "multi_turn":
            props = {"request": text, "calls": calls(strict, 1, 1), "followup": text}
            props["followup_calls"] = calls(strict, 1, 1)
        elif kind == "sequential" and strict:
            # two calls, the second taking the first's result as one of its parameters: without
            # it the default model wrote two independent calls in 9 of 9 sequential blueprints
            first = calls(True, 1, 1)["items"]
            seq = {"type": "array", "prefixItems": [first, _result_call(specs)], "items": False}
            props = {"calls": seq | {"minItems": 2, "maxItems": 2}, "request": text}
        elif kind in ("parallel", "sequential"):
            # the calls first: a request written after them asks for all of them (written
            # first, it asked for one thing and the forced second call was padding)
            props = {"calls": calls(strict and kind == "parallel", 2, 4), "request": text}
        else:  # the call first here too: a request written first left values out (the most
            # common construction reject: "the request does not state the value of ...")
            props = {"calls": calls(strict, 1, 1), "request": text}
        return {"type": "object", "properties": props, "required": list(props)}

    return [
        {"type": "array", "items": item(strict), "minItems": 1, "maxItems": k} for strict in (True, False)
    ]


def _result_call(specs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A call of one of ``specs`` with one of its parameters set to ``"<result>"`` (the rest as
    its schema says)."""
    options = []
    for spec in specs:
        fn = spec.get("function", spec)
        params = fn.get("parameters") or {}
        props = dict(params.get("properties") or {})
        for p in props:
            args = dict(params, type="object", properties=props | {p: {"const": "<result>"}})
            args["required"] = [p, *(r for r in params.get("required") or [] if r != p)]
            options.append(
                {
                    "type": "object",
                    "properties": {"name": {"const": fn["name"]}, "arguments": args},
                    "required": ["name", "arguments"],
                }
            )
    if not options:
        return {"type": "object"}
    return options[0] if len(options) == 1 else {"anyOf": options}


# --------------------------------------------------------------------------- reading the reply
def parse_items(text: str) -> tuple[list[Any], list[str]]:
    """The items of the teacher's JSON list, and problems (one per unreadable part).

    A list cut off by the token budget keeps its complete items. Python-literal spellings
    (single quotes, ``True``) are read with :func:`ast.literal_eval`; nothing is evaluated."""
    t = re.sub(r"```[a-zA-Z]*\n?", "", text)
    starts = [i for i in (t.find("["), t.find("{")) if i >= 0]
    if not starts:
        return [], ["no JSON list in the reply"]
    i = min(starts)
    listed = t[i] == "["
    i += listed  # inside a list; else a run of bare objects
    dec = json.JSONDecoder()
    items: list[Any] = []
    n = len(t)
    while i < n:
        while i < n and t[i] in " \t\r\n,":
            i += 1
        if i >= n or t[i] == "]" or (not listed and t[i] != "{"):
            return items, [] if listed or items else ["no JSON list in the reply"]
        try:
            obj, i = dec.raw_decode(t, i)
        except json.JSONDecodeError as e:
            lit, end = _literal_at(t, i)
            if lit is None:
                return items, [f"malformed JSON: {e.msg} at item {len(items) + 1}"]
            obj, i = lit, end
        items.append(obj)
    if not listed:
        return items, []
    return items, ["the JSON list is cut off"]


def _literal_at(text: str, i: int) -> tuple[Any, int]:
    """A Python literal (dict) starting at ``text[i]``: the shortest balanced ``{...}`` that
    :func:`ast.literal_eval` accepts (literals only), or (None, i)."""
    if text[i] != "{":
        return None, i
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                try:
                    return ast.literal_eval(text[i : j + 1]), j + 1
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    return None, i
    return None, i


@dataclass
class Reject:
    """Something the pipeline threw away: the stage, why, and enough to see what it was."""

    id: str
    stage: str
    reason: str
    category: str = ""
    lang: str = ""
    request: str = ""
    detail: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _calls(value: Any, group_tools: Mapping[str, Tool], where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise _Bad(f"{where} must be a non-empty list of calls")
    out = []
    for c in value:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise _Bad(f"{where}: a call must be an object with a name")
        name, args = c["name"], c.get("arguments", c.get("parameters", {}))
        if name not in group_tools:
            raise _Bad(f"blueprint calls unknown tool {name!r}")
        if not isinstance(args, dict):
            raise _Bad(f"arguments of {name} are not an object")
        later = {k for k, v in args.items() if is_placeholder(v)}
        errors = [e for e in group_tools[name].validate(args) if not any(f"'{k}'" in e for k in later)]
        if errors:
            raise _Bad(f"arguments of {name} break its schema: {errors[0]}")
        out.append({"name": name, "arguments": args})
    return out


def _check_stated(calls: Sequence[dict[str, Any]], texts: Sequence[str], tools: Mapping[str, Tool]) -> None:
    """Every value of the blueprint's calls is in the request (or one of its parameter's enum
    values, or an earlier result's placeholder): the grounding filter rejects a trajectory whose
    calls use values the user never gave, so a request that leaves them out is rejected here,
    before the teacher spends a trajectory on it."""
    evidence = Evidence.of(texts)
    for c in calls:
        props = (tools[c["name"]].parameters or {}).get("properties") or {}
        for param, value in c["arguments"].items():
            if is_placeholder(value) or value in ((props.get(param) or {}).get("enum") or []):
                continue
            if not evidence.has(value):
                raise _Bad(f"the request does not state the value of {param} for {c['name']}")


class _Bad(CalltuneError, ValueError):
    """An item that is not a usable blueprint (internal: becomes a :class:`Reject`)."""


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")


def _check_no_answers(request: str, calls: Sequence[Mapping[str, Any]]) -> None:
    """A request written after its calls must not state numbers no call takes: the teacher wrote
    "The z-score of 2.5 ... is 1.25." (a made-up result) as a parallel request."""
    args: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif not isinstance(v, bool) and v is not None:
            args.append(str(v))

    for c in calls:
        walk(c.get("arguments") or {})
    values = {float(a) for a in args if _NUMBER.fullmatch(a.replace(",", ""))}
    text = " ".join(args)
    for m in _NUMBER.finditer(request):
        n = m.group().replace(",", "")
        if float(n) in values or n in text or m.group() in text:
            continue
        raise _Bad(f"the request states {m.group()}, which no call takes (a result written into it?)")


def _check_unspelled(text: str, names: Sequence[str]) -> None:
    """A user's words name what they want, not a function call: the teacher wrote requests like
    "将“三万五千”转换为阿拉伯数字：中文数字转阿拉伯数字(text: '三万五千')" that spell the call out."""
    for n in names:
        if re.search(re.escape(n) + r"\s*[(（]", text):
            raise _Bad(f"the request spells out the call {n}(...)")


def _text(item: Mapping[str, Any], key: str, lang: str) -> str:
    v = item.get(key)
    if not isinstance(v, str) or len(v.strip()) < 6:
        raise _Bad(f"'{key}' is missing or too short")
    v = v.strip()
    if len(v) > 600:
        raise _Bad(f"'{key}' is longer than 600 characters")
    if (lang == "zh") != is_zh(v):
        raise _Bad(f"'{key}' is not in the language asked for ({lang})")
    return v


def read_item(item: Any, group: Group, pool_tools: Mapping[str, Tool], k: int) -> Instruction:
    """The :class:`Instruction` an item of ``group``'s reply describes (``_Bad`` when unusable)."""
    if not isinstance(item, dict):
        raise _Bad(f"an item must be an object, got {type(item).__name__}")
    cat, lang = group.category, group.lang
    focus = {n: pool_tools[n] for n in group.focus}
    request = _text(item, "request", lang)
    iid = f"{group.id}.{k}"
    seed = stable_seed(group.seed, k)
    followups: list[str] = []
    target: str | None = None
    missing: str | None = None
    if cat == "missing_value":
        target, missing = item.get("tool"), item.get("missing")
        if target not in focus:
            raise _Bad(f"blueprint names unknown tool {target!r}")
        req = focus[target].parameters.get("required") or []
        if missing not in req:
            raise _Bad(f"{missing!r} is not a required parameter of {target}")
        calls: list[dict[str, Any]] = []
    else:
        calls = _calls(item.get("calls"), focus, "calls")
        n = len(calls)
        if cat in ("single", "choice", "no_fit", "multi_turn") and n != 1:
            raise _Bad(f"a {PROMPT_KIND[cat]} request needs exactly one call, the blueprint has {n}")
        if cat in ("parallel", "sequential") and n < 2:
            raise _Bad(f"a {cat} request needs two or more calls, the blueprint has {n}")
        held = [any(map(is_placeholder, c["arguments"].values())) for c in calls]
        if cat == "sequential" and (held[0] or not any(held[1:])):
            raise _Bad(
                'the second call must use the first call\'s result (a "<result>" value), the first none'
            )
        if cat != "sequential" and any(held):
            raise _Bad("a call has a placeholder value instead of the request's")
        if cat == "multi_turn":
            followups = [_text(item, "followup", lang)]
            calls += _calls(item.get("followup_calls"), focus, "followup_calls")
        if group.env is None:  # an environment's values come from its state, not the request
            # (a follow-up's call may use the first turn's result: only the first turn is checked)
            _check_stated(calls[:1] if cat == "multi_turn" else calls, [request], focus)
        if cat == "no_fit":
            target = calls[0]["name"]
            calls = []
    for text in (request, *followups):
        _check_unspelled(text, list(focus))
    if cat != "multi_turn" and calls:  # the kinds whose request is written after the calls
        _check_no_answers(request, calls)
    offered = _offered(cat, group, target, calls)
    if not offered:
        raise _Bad("nothing is left to offer (no sibling or distractor tools)")
    return Instruction(
        id=iid,
        category=cat,
        lang=lang,
        request=request,
        tools=offered,
        calls=calls,
        seed=seed,
        group=group.id,
        followups=followups,
        target=target,
        missing=missing,
        env=group.env,
        env_seed=group.env_seed,
    )


def _offered(cat: str, group: Group, target: str | None, calls: Sequence[dict[str, Any]]) -> list[str]:
    """The tools offered for an item: in one shuffled order for the whole generation (its
    trajectories' prompts share a prefix), ``no_fit`` without the target, ``single`` only the
    tool called."""
    if cat == "single":
        return list(dict.fromkeys(c["name"] for c in calls))
    names = group.focus + group.distractors
    random.Random(group.seed).shuffle(names)
    return [n for n in names if not (cat == "no_fit" and n == target)]


#: tokens a generation may spend per request it is asked for, by prompt kind. At 90 (single,
#: missing_value) and 150 (the rest), 54 of 338 generations of data/gen ran out mid-item and
#: lost it (the default model pretty-prints its JSON); a generation that finishes earlier
#: spends no more with a larger budget.
ITEM_BUDGET = {"single": 120, "missing_value": 120, "default": 200}


@dataclass
class Generation:
    """What one generation produced: its instructions, its rejects and the teacher's usage."""

    group: Group
    instructions: list[Instruction]
    rejects: list[Reject]
    reply: Reply | None
    raw: str = ""

    def record(self) -> dict[str, Any]:
        return {
            "group": asdict(self.group),
            "kept": [i.id for i in self.instructions],
            "rejected": len(self.rejects),
            "raw": self.raw,
            **(self.reply.usage() if self.reply else {}),
        }


def generate_group(
    teacher: Teacher,
    group: Group,
    specs: Sequence[dict[str, Any]],
    pool_tools: Mapping[str, Tool],
    k: int,
    state: str | None = None,
    max_tokens: int | None = None,
    temperature: float = 0.7,
) -> Generation:
    """Ask the teacher for ``k`` requests of ``group`` and read them (rejects counted)."""
    kind = PROMPT_KIND[group.category]
    prompt = instruction_prompt(specs, kind, group.lang, k, state)
    budget = max_tokens or ITEM_BUDGET.get(kind, ITEM_BUDGET["default"]) * k + 20
    reply = teacher.ask(
        SYSTEM,
        prompt,
        max_tokens=budget,
        temperature=temperature,
        seed=group.seed,
        purpose="instructions",
        schemas=reply_schemas(kind, specs, k),
    )
    items, problems = parse_items(reply.text)
    out: list[Instruction] = []
    rejects: list[Reject] = []
    for k_i, item in enumerate(items[:k]):
        try:
            out.append(read_item(item, group, pool_tools, k_i))
        except _Bad as e:
            req = item.get("request", "") if isinstance(item, dict) else ""
            rejects.append(
                Reject(
                    f"{group.id}.{k_i}", "instructions", str(e), group.category, group.lang, str(req)[:300]
                )
            )
    for p in problems:
        rejects.append(
            Reject(f"{group.id}.x", "instructions", p, group.category, group.lang, "", reply.text[-300:])
        )
    return Generation(group, out, rejects, reply, reply.text)
