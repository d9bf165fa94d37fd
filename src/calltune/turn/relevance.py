"""A relevance check: does the function the model called fit the user's request?

Small models call a tool whenever tools are on offer, also when none of them fits ("Who won
the World Cup 2022?" with a battle simulator on offer). A system prompt that says "call only
when a function fits" did not change that on the default model (measured on held-out BFCL
cases, see docs/eval.md); asking the same model one short yes/no question per called
function, with nothing but the request and that function's description in view, does catch a
good part of them. The check costs one short prompt and at most three generated tokens per
distinct function called; a "no" drops the calls of that function.

The question is generic (no benchmark content) and is rendered through the same chat format as
everything else, so it works for any local engine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ..engines.base import Engine, SamplingParams, engine_prompt
from ..formats.base import ChatFormat
from ..types import ToolCall
from .history import awaits_answer_to_user

RELEVANCE_SYSTEM = "You are a helpful assistant."
RELEVANCE_QUESTION = (
    'A user asked: "{question}"\n\n'
    "Available function: {name} — {description}\n\n"
    "Is this function made for exactly this kind of request? Answer no if it is about a "
    "different topic or computes something else. Answer yes or no."
)


@dataclass
class RelevanceVerdict:
    """The check's answer for one called function."""

    name: str
    fits: bool
    answer: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fits": self.fits, "answer": self.answer}


def relevance_messages(
    question: str, function: dict[str, Any], template: str = RELEVANCE_QUESTION
) -> list[dict[str, Any]]:
    """The two messages of the check for one function (an OpenAI ``function`` dict);
    ``template`` has the fields ``question``, ``name`` and ``description``."""
    text = template.format(
        question=question.strip(),
        name=function.get("name", ""),
        description=(function.get("description") or "(no description)").strip(),
    )
    return [{"role": "system", "content": RELEVANCE_SYSTEM}, {"role": "user", "content": text}]


def check_relevance(
    engine: Engine,
    fmt: ChatFormat,
    question: str,
    tools: Sequence[dict[str, Any]],
    calls: Sequence[ToolCall],
    template: str = RELEVANCE_QUESTION,
) -> dict[str, RelevanceVerdict]:
    """One verdict per distinct offered function among ``calls`` (unknown names are left to
    the toolbox, which reports them). An answer that starts with "no" means it does not fit;
    anything else keeps the call."""
    functions = {t["function"]["name"]: t["function"] for t in tools if "function" in t}
    params = SamplingParams(max_tokens=3, temperature=0.0, stop=list(fmt.stop))
    verdicts: dict[str, RelevanceVerdict] = {}
    for call in calls:
        if call.name in verdicts or call.name not in functions:
            continue
        msgs = relevance_messages(question, functions[call.name], template)
        prompt = engine_prompt(engine, fmt, msgs)
        answer = engine.generate(prompt, params).text.strip()
        fits = not answer.lower().lstrip("\"'*` ").startswith("no")
        verdicts[call.name] = RelevanceVerdict(call.name, fits, answer)
    return verdicts


def relevance_applies(
    enabled: bool, plan: Any, messages: Sequence[dict[str, Any]], exempt: Collection[str] = ()
) -> bool:
    """Whether the check may drop calls of a turn planned as ``plan``: it is on, the choice is
    ``auto``, the turn answers a user message, and a function it does not exempt is offered."""
    return (
        enabled
        and plan.choice == "auto"
        and awaits_answer_to_user(messages)
        and any(t["function"]["name"] not in exempt for t in plan.offered)
    )


def filter_relevant(
    engine: Engine,
    fmt: ChatFormat,
    question: str,
    tools: Sequence[dict[str, Any]],
    calls: Sequence[ToolCall],
    exempt: Collection[str] = (),
) -> tuple[list[ToolCall], list[str], list[RelevanceVerdict]]:
    """``(kept calls, names of the functions dropped, verdicts)``: :func:`check_relevance` on
    ``calls`` (functions named in ``exempt`` are not checked and always kept)."""
    judged = [c for c in calls if c.name not in exempt]
    verdicts = check_relevance(engine, fmt, question, tools, judged)
    dropped = [n for n, v in verdicts.items() if not v.fits]
    return [c for c in calls if c.name not in dropped], dropped, list(verdicts.values())
