"""The format registry, the shared message walk and the format wrapper."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import pytest

from calltune.errors import CalltuneError
from calltune.formats import (
    ChatFormat,
    FormatError,
    FormatWrapper,
    HermesFormat,
    detect_format,
    get_format,
    list_formats,
    register_format,
    registry,
)
from calltune.formats.segment import Segment, seg
from calltune.formats.streaming import BufferedStreamParser
from calltune.types import ParseResult, ToolCall

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Formats registered by a test are gone after it."""
    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))
    monkeypatch.setattr(registry, "_KEYS", dict(registry._KEYS))


class LineParser(BufferedStreamParser):
    """``CALL name {json}`` lines are calls, the rest is content (decided per line)."""

    def _step(self, final: bool) -> bool:
        nl = self._buf.find("\n")
        if nl == -1 and not final:
            return False
        line, self._buf = (self._buf, "") if nl == -1 else (self._buf[:nl], self._buf[nl + 1 :])
        if line.startswith("CALL "):
            name, _, args = line[5:].partition(" ")
            self._emit_call(ToolCall(name, json.loads(args)))
        else:
            self._emit_content(line + "\n")
        return bool(self._buf)


class LineFormat(ChatFormat):
    """A toy format written with the hooks only; it records what the walk handed it."""

    stop = ["<end>"]

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def takes_system(self, funcs: list[dict[str, Any]]) -> bool:
        return True

    def render_prologue(self, system: str | None, loss: bool, funcs: list[dict[str, Any]]) -> list[Segment]:
        self.seen.append(("prologue", system, loss, [f["name"] for f in funcs]))
        return [seg(f"TOOLS {[f['name'] for f in funcs]} SYSTEM {system}\n", "system")]

    def render_text_turn(self, role: str, content: str, loss: bool) -> list[Segment]:
        return [seg(f"{role}: {content}\n", role, loss)]

    def render_assistant_open(self, loss: bool) -> list[Segment]:
        return [seg("assistant:", "assistant")]

    def render_assistant_text(self, content: str, loss: bool, has_calls: bool) -> list[Segment]:
        return [seg(f" {content}", "assistant", loss)] if content else []

    def render_assistant_code(self, code: str, loss: bool, has_calls: bool) -> list[Segment]:
        return [seg(f" CODE {code}", "assistant", loss)]

    def render_tool_call(self, name: str, args: dict[str, Any], loss: bool, first: bool) -> list[Segment]:
        self.seen.append(("call", name, first))
        return [seg(f"\nCALL {name} {json.dumps(args)}", "assistant", loss)]

    def render_assistant_close(self, loss: bool) -> list[Segment]:
        return [seg("<end>\n", "assistant")]

    def render_tool_result(
        self, content: str, loss: bool, *, code: bool, first: bool, last: bool
    ) -> list[Segment]:
        self.seen.append(("result", content, code, first, last))
        return [seg(f"tool: {content}\n", "tool", loss)]

    def render_generation_prompt(self) -> list[Segment]:
        return [seg("assistant:", "assistant")]

    def stream_parser(self, tool_names: Collection[str] | None = None) -> LineParser:
        return LineParser()


def _call(cid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def test_register_format_makes_a_format_available_by_name_alias_and_detection(clean_registry: None) -> None:
    cls = register_format("Lines", aliases=("line-format",), detect=lambda t, mid: "<end>" in t)(LineFormat)
    assert cls is LineFormat and LineFormat.name == "lines"
    assert list_formats() == ["chatglm3", "hermes", "glm4", "lines"]
    assert isinstance(get_format("lines"), LineFormat)
    assert isinstance(get_format("  LINE-Format "), LineFormat)
    assert get_format("lines") is not get_format("lines")  # a fresh instance each time
    assert detect_format("{{ messages }}<end>", "") == "lines"
    assert registry.format_entry("line-format").aliases == ("line-format",)


def test_registering_a_taken_name_or_alias_fails_unless_replaced(clean_registry: None) -> None:
    with pytest.raises(FormatError, match="'hermes' is already registered"):
        register_format("hermes")(LineFormat)
    with pytest.raises(FormatError, match="'qwen' is already registered"):
        register_format("lines", aliases=("qwen",))(LineFormat)
    assert "lines" not in list_formats()
    with pytest.raises(FormatError, match="needs a ChatFormat subclass"):
        register_format("dicts")(dict)  # type: ignore[type-var]

    class Hermes2(HermesFormat):
        pass

    register_format("hermes", aliases=("qwen",), replace=True)(Hermes2)
    assert type(get_format("hermes")) is Hermes2 and type(get_format("qwen")) is Hermes2
    with pytest.raises(FormatError, match="unknown chat format 'chatml'"):
        get_format("chatml")  # the replaced registration's aliases went with it


def test_unknown_format_is_a_format_error() -> None:
    with pytest.raises(FormatError) as err:
        get_format("llama9")
    assert isinstance(err.value, CalltuneError) and isinstance(err.value, ValueError)
    assert str(err.value) == "unknown chat format 'llama9'; choose one of chatglm3, hermes, glm4"


def test_detection_asks_about_the_template_first_then_the_model_id(clean_registry: None) -> None:
    # a template claimed by a detector wins over a model id claimed by another
    assert detect_format("<|im_start|>{{ m }}", "THUDM/chatglm3-6b") == "hermes"
    assert detect_format("[gMASK]<sop><|observation|>", "Qwen/Qwen2.5") == "glm4"
    # a template nobody claims: the model id decides, else the default
    assert detect_format("<start_of_turn>", "THUDM/GLM-4-9B-Chat") == "glm4"
    assert detect_format("<start_of_turn>", "gemma") == registry.DEFAULT_FORMAT == "hermes"
    # a higher priority is asked first
    register_format("lines", detect=lambda t, mid: "<|observation|>" in t, priority=5)(LineFormat)
    assert detect_format("[gMASK]<sop><|observation|>", "") == "lines"
    assert detect_format(None, "THUDM/chatglm3-6b") == "chatglm3"


def test_the_walk_hands_each_part_to_its_hook() -> None:
    fmt = LineFormat()
    msgs = [
        {"role": "system", "content": "S", "loss": True},
        {"role": "user", "content": "u"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [_call("c1", "python", {"code": "1+1"}), _call("c2", "get_weather", {"city": "P"})],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "2"},
        {"role": "tool", "tool_call_id": "c2", "content": "sun"},
        {"role": "assistant", "name": "interpreter", "content": "print(3)"},
        {"role": "observation", "content": "3"},
        {"role": "assistant", "content": "done", "tool_calls": [_call("c3", "get_weather", {})]},
        {"role": "tool", "tool_call_id": "c3", "content": "rain"},
    ]
    text = fmt.render(msgs, [WEATHER])
    assert fmt.seen == [
        ("prologue", "S", True, ["get_weather"]),
        ("call", "python", True),
        ("call", "get_weather", False),
        ("result", "2", True, True, False),  # answers a code call; opens a run of two results
        ("result", "sun", False, False, True),
        ("result", "3", True, True, True),  # after an interpreter message, without an id
        ("call", "get_weather", False),  # after the message's text
        ("result", "rain", False, True, True),
    ]
    assert text.startswith("TOOLS ['get_weather'] SYSTEM S\nuser: u\nassistant:\nCALL python")
    assert "assistant: CODE print(3)<end>\n" in text and text.endswith("tool: rain\nassistant:")
    # the shared parse is the stream parser fed at once
    assert fmt.parse('ok\nCALL f {"a": 1}').tool_calls[0].arguments == {"a": 1}
    # without a leading system message the prologue gets None
    assert (
        LineFormat().render([{"role": "user", "content": "u"}]) == "TOOLS [] SYSTEM None\nuser: u\nassistant:"
    )


def test_a_format_may_render_without_the_hooks() -> None:
    class Bare(ChatFormat):
        def segments(self, messages, tools=None, add_generation_prompt=True):  # noqa: ANN001, ANN201
            return [Segment(m["content"]) for m in messages]

        def stream_parser(self, tool_names: Collection[str] | None = None) -> LineParser:
            return LineParser()

    assert Bare().render([{"role": "user", "content": "x"}]) == "x"
    with pytest.raises(NotImplementedError, match="does not render user messages"):
        ChatFormat.segments(Bare(), [{"role": "user", "content": "x"}])


class Upper(FormatWrapper):
    def parse(self, text: str, tool_names: Collection[str] | None = None) -> ParseResult:
        return self.base.parse(text.upper(), tool_names)


def test_format_wrapper_forwards_the_whole_contract() -> None:
    base = HermesFormat(tool_guidance="Be brief.")
    fmt = FormatWrapper(base)
    assert isinstance(fmt, ChatFormat)
    assert (fmt.name, fmt.stop, fmt.special_tokens) == (base.name, base.stop, base.special_tokens)
    msgs = [{"role": "user", "content": "hi"}]
    assert fmt.segments(msgs, [WEATHER]) == base.segments(msgs, [WEATHER])
    assert fmt.render(msgs, [WEATHER], False) == base.render(msgs, [WEATHER], False)
    assert fmt.render_generation_prompt() == base.render_generation_prompt()
    assert fmt.tool_guidance == "Be brief."  # outside the contract: reachable too
    text = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    assert fmt.parse(text, ["get_weather"]).tool_calls[0].arguments == {"city": "Paris"}
    sp = fmt.stream_parser(tool_names=["get_weather"])
    assert [d.kind for d in sp.feed(text) + sp.finish()] == [
        "tool_call_start",
        "tool_call_args",
        "tool_call_end",
    ]
    assert fmt.stop_means_call("<|im_end|>") is False
    assert FormatWrapper(get_format("chatglm3")).stop_means_call("<|observation|>") is True


def test_a_wrapper_subclass_changes_only_what_it_overrides() -> None:
    fmt = Upper(get_format("glm4"))
    assert fmt.parse("hello").content == "HELLO"
    assert fmt.render([{"role": "user", "content": "hi"}]) == get_format("glm4").render(
        [{"role": "user", "content": "hi"}]
    )
    assert fmt.name == "glm4" and get_format(fmt) is fmt


def _detect_by_the_old_rules(t: str | None, model_id: str) -> str:
    """The hard-coded detection the registry replaced (kept here as the reference)."""
    t, mid = t or "", model_id.lower()
    if t:
        if "[gMASK]<sop>" in t or ("<sop>" in t and "<|observation|>" in t):
            return "glm4"
        if "<|observation|>" in t:
            return "chatglm3"
        if "<tool_call>" in t or "<|im_start|>" in t:
            return "hermes"
    if "chatglm3" in mid:
        return "chatglm3"
    if "glm-4" in mid or "glm4" in mid:
        return "glm4"
    return "hermes"


def test_registry_detection_gives_the_answers_of_the_old_rules() -> None:
    pieces = ["[gMASK]<sop>", "<sop>", "<|observation|>", "<tool_call>", "<|im_start|>", "<start_of_turn>"]
    templates: list[str | None] = [None, ""]
    templates += [a + "{{ x }}" + b for a in pieces for b in ["", *pieces]]
    ids = [
        "",
        "THUDM/chatglm3-6b",
        "THUDM/GLM-4-9B-Chat",
        "glm4-x",
        "Qwen/Qwen2.5-7B",
        "chatglm3-glm4",
        "gemma",
    ]
    for t in templates:
        for mid in ids:
            assert detect_format(t, mid) == _detect_by_the_old_rules(t, mid), (t, mid)
