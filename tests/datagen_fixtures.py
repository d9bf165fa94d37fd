"""A scripted teacher for the datagen tests: a ScriptedEngine that answers each prompt by reading it.

It writes instruction blueprints in a fixed request syntax (``call TOOL[a=1, b=2]``), then,
as the agent, makes exactly the calls a request spells (the first only when it says "then",
the rest after the results), answers from the results, says what it cannot do when a
spelled tool is not on offer, and asks when a required value is missing. It says yes to
relevance and semantic questions and writes JSON for simulated tools. Its output depends only
on the prompt and the seed, so an interrupted and resumed run sees the same teacher.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from calltune.datagen.envs import EnvTask
from calltune.datagen.library import LibraryTool
from calltune.testing import ScriptedEngine, hermes_call
from calltune.tools import Tool, Toolbox, tool

#: TOOL[a=1] in the requests it writes (a request that spells a call as TOOL(...) is rejected by
#: instruction construction); TOOL(a=1) in the tests' own hand-made requests
CALL = re.compile(r"([^\W\d][\w]*)[(\[]([^()\[\]]*)[)\]]")
ARG = re.compile(r"(\w+)=(<result>|[^,\s)\]]+)")
WORDS = ["apple", "river", "candle", "mirror", "garden", "violin", "pepper", "harbor", "meadow", "copper"]
OPENERS = ["Please", "Hey, could you", "I need you to", "Can you", "Quick one:", "Would you kindly"]
CLOSERS = ["", " Thanks!", " It's for my homework.", " I need it soon.", " Cheers.", " Much appreciated."]


@tool
def add_numbers(a: Annotated[int, "First number"], b: Annotated[int, "Second number"]) -> int:
    """Add two integers."""
    return a + b


@tool
def multiply(a: Annotated[int, "First factor"], b: Annotated[int, "Second factor"]) -> int:
    """Multiply two integers."""
    return a * b


@tool
def reverse_text(text: Annotated[str, "The text"]) -> str:
    """Reverse a text."""
    return text[::-1]


@tool
def shout(text: Annotated[str, "The text"]) -> str:
    """Upper-case a text."""
    return text.upper()


def _population(city: Annotated[str, "城市名"]) -> int:
    return 1000 + len(city)


POPULATION = Tool(_population, name="城市人口", description="查询城市人口。")
CAPITAL = {
    "type": "function",
    "function": {
        "name": "lookup_capital",
        "description": "The capital of a country.",
        "parameters": {
            "type": "object",
            "properties": {"country": {"type": "string", "description": "Country name"}},
            "required": ["country"],
        },
    },
}


def sample_pool_tools() -> list[LibraryTool]:
    return [
        LibraryTool(add_numbers, "math"),
        LibraryTool(multiply, "math"),
        LibraryTool(reverse_text, "text"),
        LibraryTool(shout, "text"),
        LibraryTool(POPULATION, "geo"),
        LibraryTool(Tool.from_spec(CAPITAL), "geo", simulated=True),
    ]


# --------------------------------------------------------------------------- a tiny environment
class CounterInstance:
    def __init__(self, seed: int):
        self.counts: dict[str, int] = {"apples": seed % 3}

    def incr(self, name: Annotated[str, "Counter name"], by: Annotated[int, "Amount"]) -> int:
        """Increase a counter."""
        self.counts[name] = self.counts.get(name, 0) + by
        return self.counts[name]

    def toolbox(self) -> Toolbox:
        return Toolbox([Tool(self.incr, name="incr")], sequential=True)

    def describe(self) -> str:
        return json.dumps(self.counts)

    def state(self) -> Any:
        return dict(self.counts)

    def close(self) -> None:
        pass


class CounterEnv:
    name = "counter"

    def fresh(self, seed: int) -> CounterInstance:
        return CounterInstance(seed)

    def tasks(self, seed: int, n: int) -> list[EnvTask]:
        start = seed % 3
        out = []
        for i in range(n):
            by = 5 + i

            def check(inst: Any, want: int = start + by) -> list[str]:
                got = inst.state().get("apples")
                return [] if got == want else [f"apples is {got}, not {want}"]

            out.append(EnvTask(f"Please call incr(name=apples, by={by}).", check, category="single"))
        return out


# --------------------------------------------------------------------------- the teacher
def _value(v: str) -> Any:
    return int(v) if re.fullmatch(r"-?\d+", v) else v


def spelled_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    return [(m.group(1), {k: _value(v) for k, v in ARG.findall(m.group(2))}) for m in CALL.finditer(text)]


def _messages(prompt: str) -> list[tuple[str, str]]:
    out = []
    for part in prompt.split("<|im_start|>")[1:]:
        role, _, body = part.partition("\n")
        out.append((role, body.replace("<|im_end|>", "").rstrip("\n")))
    return out


def _tools(prompt: str) -> dict[str, dict[str, Any]]:
    m = re.search(r"<tools>\n(.*?)\n</tools>", prompt, re.DOTALL)
    out = {}
    for line in (m.group(1) if m else "").splitlines():
        fn = json.loads(line)["function"]
        out[fn["name"]] = fn
    return out


class FakeTeacher(ScriptedEngine):
    """Answers by reading the prompt (see the module docstring); ``override(prompt)`` may
    return a text to use instead (hostile teachers), ``fail_after`` raises after that many
    generations (a kill)."""

    def __init__(self, override: Callable[[str], str | None] | None = None, fail_after: int | None = None):
        super().__init__([""], cycle=True)
        self.override = override
        self.fail_after = fail_after
        self.calls = 0
        self._lock = threading.Lock()

    def stream(self, prompt, params, constraint=None):
        text = prompt if isinstance(prompt, str) else self.tokenizer.decode(prompt)
        with self._lock:
            self.calls += 1
            if self.fail_after is not None and self.calls > self.fail_after:
                raise KeyboardInterrupt("killed")
            out = (self.override(text) if self.override else None) or self.respond(text, params.seed or 0)
            self.outputs, self._i = [out], 0
            # one token per character here: the budget a real tokenizer would give
            yield from super().stream(prompt, replace(params, max_tokens=params.max_tokens * 4), constraint)

    # -- dispatch -------------------------------------------------------------------------------
    def respond(self, prompt: str, seed: int) -> str:
        msgs = _messages(prompt)
        last = msgs[-1][1] if msgs else ""
        if "different requests" in prompt and "Functions:" in prompt:
            return self.blueprints(msgs[-2][1] if len(msgs) >= 2 else prompt, seed)
        if "Is this function made for" in prompt or "Does the reply correctly resolve" in prompt:
            return "yes"
        if "You stand in for a real API" in prompt:
            return '{"capital": "Paris"}'
        if last.endswith("</tool_call>"):
            return ""  # call continuation: nothing more
        if "None of the functions you have can do" in prompt or "你的函数都做不了" in prompt:  # a no_fit note
            return (
                "抱歉，我做不了这件事。"
                if "你的函数都做不了" in prompt
                else "Sorry, I cannot do that with my tools."
            )
        asked = re.search(r"does not give the value of '(\w+)'|没有给出 '(\w+)' 的值", prompt)
        if asked:  # a missing_value request's note (calltune.datagen.trajectories.ASK_NOTES)
            param = asked.group(1) or asked.group(2)
            return f"请问 {param} 是多少？" if asked.group(2) else f"Which value should I use for {param}?"
        return self.act(msgs, _tools(prompt))

    def blueprints(self, user: str, seed: int) -> str:
        rng = random.Random(seed)
        zh = "Chinese" in user
        k = int(re.search(r"Write (\d+) different requests", user).group(1))
        tools = []
        for line in user.split("Functions:\n", 1)[1].split("\n\n", 1)[0].splitlines():
            m = re.match(r"- (\S+?)\((.*)\) — ", line)
            params = [
                (p.split(":")[0], p.split(":")[1].split()[0])
                for p in re.findall(r"(\w+\??: \w+)", m.group(2))
            ]
            tools.append((m.group(1), params))

        def args(params: list[tuple[str, str]], skip: int = -1) -> dict[str, Any]:
            return {
                p: (rng.randint(2, 999) if t == "integer" else rng.choice(WORDS))
                for i, (p, t) in enumerate(params)
                if not p.endswith("?") and i != skip
            }

        def spell(name: str, a: dict[str, Any]) -> str:
            return f"{name}[{', '.join(f'{p}={v}' for p, v in a.items())}]"

        def say(*calls: str, then: bool = False) -> str:
            if zh:
                return "请帮我调用 " + ("，然后调用 " if then else " 和 ").join(calls) + "。"
            joined = (", then call " if then else " and call ").join(calls)
            return f"{rng.choice(OPENERS)} call {joined}.{rng.choice(CLOSERS)}"

        kind = next(
            kind
            for kind, marker in (
                ("sequential", "uses a value from"),
                ("parallel", "two or more calls"),
                ("missing_value", "leaves out"),
                ("multi_turn", "follow-up"),
                ("single", "exactly one call"),
            )
            if marker in user
        )
        items = []
        for j in range(k):
            name, params = tools[j % len(tools)]
            a = args(params)
            if kind == "single":
                items.append({"request": say(spell(name, a)), "calls": [{"name": name, "arguments": a}]})
            elif kind == "parallel":
                b = args(params)
                items.append(
                    {
                        "request": say(spell(name, a), spell(name, b)),
                        "calls": [{"name": name, "arguments": a}, {"name": name, "arguments": b}],
                    }
                )
            elif kind == "sequential":
                name2, params2 = tools[(j + 1) % len(tools)]
                b = args(params2)
                b[next(iter(b))] = "<result>"
                items.append(
                    {
                        "request": say(spell(name, a), spell(name2, b), then=True),
                        "calls": [{"name": name, "arguments": a}, {"name": name2, "arguments": b}],
                    }
                )
            elif kind == "missing_value":
                items.append(
                    {"request": say(spell(name, args(params, skip=0))), "tool": name, "missing": params[0][0]}
                )
            else:
                b = args(params)
                follow = ("再调用 " if zh else "Now also call ") + spell(name, b) + ("。" if zh else ".")
                items.append(
                    {
                        "request": say(spell(name, a)),
                        "calls": [{"name": name, "arguments": a}],
                        "followup": follow,
                        "followup_calls": [{"name": name, "arguments": b}],
                    }
                )
        return json.dumps(items, ensure_ascii=False)

    def act(self, msgs: list[tuple[str, str]], tools: dict[str, dict[str, Any]]) -> str:
        users = [  # the user's requests (not tool results, not the turn's answer note)
            i
            for i, (r, b) in enumerate(msgs)
            if r == "user"
            and not b.startswith(("<tool_response>", "Note: answer my question", "注意：请用上面"))
        ]
        start = users[-1]
        request = msgs[start][1]
        results = [b for r, b in msgs[start + 1 :] if r == "user" and b.startswith("<tool_response>")]
        made = sum(b.count("<tool_call>") for r, b in msgs[start + 1 :] if r == "assistant")
        wanted = spelled_calls(request)
        zh = any("\u4e00" <= c <= "\u9fff" for c in request)
        got = ", ".join(r.split("\n")[1] for r in results)
        if wanted and made >= len(wanted):  # every call made: the answer (tools shown or not)
            return f"结果是 {got}。" if zh else f"The result is {got}."
        for name, a in wanted[made:]:  # the calls still to make (a named turn shows only its tool)
            if name not in tools:
                return "抱歉，我没有能做这件事的工具。" if zh else "Sorry, none of my tools can do that."
            missing = [p for p in tools[name]["parameters"].get("required", []) if p not in a]
            if missing:
                return f"请问 {missing[0]} 是多少？" if zh else f"Which value should I use for {missing[0]}?"
        sequential = "then call" in request or "然后" in request
        if made < len(wanted):
            todo = wanted[made : made + 1] if sequential else wanted[made:]
            last = results[-1].split("\n")[1] if results else ""
            calls = [(n, {k: (last if v == "<result>" else v) for k, v in a.items()}) for n, a in todo]
            return "\n".join(hermes_call(n, a) for n, a in calls)
        return f"结果是 {got}。" if zh else f"The result is {got}."


class StubIndex:
    """Stands in for the BFCL index: a text with ``BFCLCOPY`` in it overlaps case ``simple_0``."""

    names: set[str] = {"bfcl_name"}
    n_texts = n_questions = 1

    def request_overlap(self, text: str) -> tuple[float, str | None]:
        return (0.9, "simple_0") if "BFCLCOPY" in text else (0.0, None)

    def name_hits(self, names) -> list[str]:
        return sorted({n for n in names if n in self.names})
