"""Answers that use the results: after tool results, the answer should be made of them.

Small models sometimes answer past their observations: both weather calls come back, and the
answer is a ``requests``/OpenWeatherMap script with ``YOUR_API_KEY``. The check is generic and
costs nothing unless it fires: an answer to a request whose tool results are in the
conversation (since the user's last message) *misses* them when it

- writes a code block although the user did not ask for code, or
- states two or more numbers of which none is in the results (or the user's words) while the
  results hold numbers — made-up temperatures or prices (one number may be derived, a sum or a
  share) (numbers found as :mod:`calltune.turn.grounding`
  finds them). A terse "Done." or "Sunny." is left alone.

Results that are all errors are not checked (the answer explains the error in its own words).
When an answer misses, the turn generates it once more without tools, told to answer from the
results (:data:`ANSWER_NOTE`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .grounding import Evidence

ANSWER_NOTE = (
    "Note: answer my question from the tool results above, with their values; do not write code "
    "unless I asked for code."
)
ANSWER_NOTE_ZH = (
    "注意：请用上面工具返回的结果和其中的数值，用中文回答我的问题；除非我要代码，否则不要写代码。"
)


def answer_note(messages: Sequence[dict[str, Any]]) -> str:
    """:data:`ANSWER_NOTE` in the language of the user's last words: told in English, the default
    model answered Chinese requests in English."""
    for m in reversed(messages):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            if any("\u4e00" <= c <= "\u9fff" for c in m["content"]):
                return ANSWER_NOTE_ZH
            break
    return ANSWER_NOTE


_CODE_FENCE = re.compile(r"```")
_ASKS_FOR_CODE = re.compile(
    r"\b(code|script|program|function|snippet|implement\w*|python|javascript|sql|regex|class)\b", re.I
)


def _results_since_user(messages: Sequence[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for m in reversed(messages):
        if m.get("role") == "user":
            break
        if m.get("role") == "tool" and isinstance(m.get("content"), str):
            out.append(m["content"])
    return out


def answer_misses_results(answer: str, messages: Sequence[dict[str, Any]], user_text: str) -> str | None:
    """Why ``answer`` does not use the tool results of this request (None: it does, or there
    is nothing to check)."""
    results = [r for r in _results_since_user(messages) if not r.lstrip().startswith("Error")]
    if not results or not answer.strip():
        return None
    if _ASKS_FOR_CODE.search(user_text):
        return None  # code may be the answer; its values need not be the results'
    if _CODE_FENCE.search(answer):
        return "the answer is code the user did not ask for"
    # numbers the answer states that neither the results nor the user gave: made up
    known = Evidence.of([*results, user_text])
    stated = Evidence.of([answer]).numbers
    # (two or more: a single number may be derived — a sum, a share — from the results)
    if len(stated) >= 2 and known.numbers and not any(known.has(n) for n in stated):
        return "the answer's numbers are in none of the tool results"
    return None
