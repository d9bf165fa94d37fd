"""A small tool-calling training set generated from real Python functions (not BFCL).

Sixteen ordinary functions (arithmetic, text, dates, units; one with a Chinese name) are
turned into tool specs by :func:`calltune.tools.to_tool_specs`; question templates (English
and Chinese) are filled with random argument values; the function is *executed* to get the
observation; an answer template states the result. Sample kinds: single call, parallel
calls (two calls in one turn), no call (chit-chat or a request no tool serves), and
two-turn dialogues. Each sample lists the tools it needs plus distractors.

Templates whose index is in ``HELD_OUT`` never appear in the training split, so the test
split has unseen phrasings as well as unseen values. ``calltune data synth OUT`` writes it.

The functions live in :mod:`.synth_functions`, the templates in :mod:`.synth_templates`;
this module turns them into samples.
"""

from __future__ import annotations

import json
import random
from typing import Any

from .synth_functions import FUNCTIONS
from .synth_templates import HELD_OUT, NO_CALL, SPECS, Spec, fmt_list

__all__ = ["FUNCTIONS", "HELD_OUT", "SPECS", "Spec", "generate", "make_sample", "tool_specs"]


def _is_zh(s: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in s)


def _context(args: dict[str, Any], result: Any) -> dict[str, Any]:
    ctx = dict(args)
    if "values" in args:
        ctx["values_text"] = fmt_list(args["values"])
    if "descending" in args:
        ctx["order_en"] = "from largest to smallest" if args["descending"] else "from smallest to largest"
        ctx["order_zh"] = "从大到小" if args["descending"] else "从小到大"
    ctx["result"] = result
    if isinstance(result, list):
        ctx["result_text"] = fmt_list(
            [f"{c} ({n})" if isinstance(c, str) else c for c, n in result]
            if result and isinstance(result[0], list)
            else result
        )
    if isinstance(result, bool):
        ctx["result_prime"] = "a prime number" if result else "not a prime number"
        ctx["result_prime_zh"] = "是质数" if result else "不是质数"
    return ctx


def _call(spec: Spec, r: random.Random, split: str) -> tuple[str, dict[str, Any], Any, str]:
    """(question, arguments, observation, answer) for one call."""
    args = spec.args(r)
    result = spec.fn(**args)
    idx = [i for i in range(len(spec.questions)) if (i in HELD_OUT) == (split == "test")]
    q_t = spec.questions[r.choice(idx)]
    ctx = _context(args, result)
    q = q_t.format(**ctx)
    ans = (spec.answer_zh if _is_zh(q) else spec.answer_en).format(**ctx)
    return q, args, result, ans


def tool_specs() -> dict[str, dict[str, Any]]:
    from ..tools import to_tool_specs

    return {t["function"]["name"]: t["function"] for t in to_tool_specs(FUNCTIONS)}


def _tools_for(
    names: list[str], specs: dict[str, dict[str, Any]], r: random.Random, n_distract: tuple[int, int]
) -> list[dict[str, Any]]:
    others = [n for n in specs if n not in names]
    chosen = names + r.sample(others, r.randint(*n_distract))
    r.shuffle(chosen)
    return [specs[n] for n in chosen]


def make_sample(
    r: random.Random,
    split: str = "train",
    specs: dict[str, dict[str, Any]] | None = None,
    n_distract: tuple[int, int] = (0, 2),
) -> dict[str, Any]:
    specs = specs or tool_specs()
    kind = r.choices(["single", "parallel", "none", "two_turn"], weights=[0.6, 0.15, 0.12, 0.13])[0]
    if kind == "none":
        q, a = r.choice(NO_CALL)
        return {
            "tools": _tools_for([], specs, r, (1, 3)),
            "conversations": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
        }
    if kind == "parallel":
        s1, s2 = r.sample(SPECS, 2)
        q1, a1, o1, ans1 = _call(s1, r, split)
        q2, a2, o2, ans2 = _call(s2, r, split)
        zh = _is_zh(q1)
        if _is_zh(q2) != zh:  # keep one language per question
            for _ in range(10):
                q2, a2, o2, ans2 = _call(s2, r, split)
                if _is_zh(q2) == zh:
                    break
        question = f"{q1}另外，{q2}" if zh else f"{q1} Also, {q2[0].lower() + q2[1:]}"
        conv = [
            {"role": "user", "content": question},
            {
                "role": "tool",
                "calls": [
                    {"name": s1.fn.__name__, "parameters": a1, "observation": o1},
                    {"name": s2.fn.__name__, "parameters": a2, "observation": o2},
                ],
            },
            {"role": "assistant", "content": ans1 + ("" if zh else " ") + ans2},
        ]
        return {
            "tools": _tools_for([s1.fn.__name__, s2.fn.__name__], specs, r, (0, 1)),
            "conversations": conv,
        }
    s = r.choice(SPECS)
    q, args, obs, ans = _call(s, r, split)
    conv = [
        {"role": "user", "content": q},
        {"role": "tool", "name": s.fn.__name__, "parameters": args, "observation": obs},
        {"role": "assistant", "content": ans},
    ]
    names = [s.fn.__name__]
    if kind == "two_turn":
        s2 = r.choice(SPECS)
        q2, a2, o2, ans2 = _call(s2, r, split)
        conv += [
            {"role": "user", "content": q2},
            {"role": "tool", "name": s2.fn.__name__, "parameters": a2, "observation": o2},
            {"role": "assistant", "content": ans2},
        ]
        if s2.fn.__name__ not in names:
            names.append(s2.fn.__name__)
    return {
        "tools": _tools_for(names, specs, r, n_distract if len(names) == 1 else (0, 1)),
        "conversations": conv,
    }


def generate(
    n: int, split: str = "train", seed: int = 0, n_distract: tuple[int, int] = (0, 2)
) -> list[dict[str, Any]]:
    """``n`` samples of the given split (``train`` or ``test``; test uses held-out templates).
    ``n_distract``: how many unrelated tools (min, max) are listed next to the needed one."""
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    r = random.Random(f"{split}-{seed}")
    specs = tool_specs()
    return [make_sample(r, split, specs, n_distract) for _ in range(n)]


def main() -> None:  # pragma: no cover - convenience
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for s in generate(n):
        print(json.dumps(s, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
