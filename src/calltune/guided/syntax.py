"""Each chat format's call syntax as an xgrammar *structural tag*.

A structural tag (xgrammar ≥ 0.1.25) is a JSON description of the output: constant
strings, JSON-Schema regions, EBNF regions, free text, and "triggered tags" (free
text until a trigger string, then a constrained region). The builders here write,
for one format and a list of tools, the structural tag of each mode:

========== ===============================================================
mode        output allowed
========== ===============================================================
required    one or more calls (exactly one when ``parallel`` is False; at most
            ``MAX_PARALLEL_CALLS``), nothing else
named:<t>   calls of tool ``t`` only (one, or several when ``parallel``)
auto        free text; once the model starts a call, the call is constrained
none        free text in which no call can start
========== ===============================================================

With a response schema (OpenAI's ``response_format``), the free text of ``auto`` and
``none`` becomes one JSON value that follows the schema (:func:`response_structure`).

Call syntax per format (what the format's parser reads back):

- ``hermes``: ``<tool_call>\\n{"name": "<t>", "arguments": <JSON>}\\n</tool_call>``,
  several calls separated by ``\\n``; the turn then ends with the model's EOS. In ``auto``
  mode a ```` ```json ```` fence also starts a (constrained) call, because the hermes
  parser reads fenced call JSON and small Qwen models write calls that way; the price is
  that a JSON code block in a text answer must then be a call.
- ``chatglm3``: after ``<|assistant|>``: ``<t>\\n```python\\ntool_call(k=v, ...)\\n```
  `` with Python-literal values (:mod:`calltune.guided.pyliteral`); several calls are
  several assistant messages (``<|assistant|><t2>\\n...``); the call turn ends with
  ``<|observation|>``. A text answer starts with ``\\n`` (empty metadata line).
- ``glm4``: ``<t>\\n<JSON>`` per call, otherwise as ``chatglm3``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import GuidedError
from .pyliteral import PyLiteralGrammar
from .schema import tool_function, tool_parameters

#: whitespace a JSON region may hold between tokens (bounded: small models loop on blanks;
#: large enough for pretty-printed JSON a few levels deep)
MAX_JSON_WHITESPACE = 16
#: the fence that opens the JSON call small Qwen models often write instead of <tool_call>
JSON_FENCE = "```json"

#: most calls one turn may hold when parallel calls are allowed: a small model that has
#: made its calls sometimes starts repeating them, and this bounds it (the grammar then
#: allows only the end of the turn)
MAX_PARALLEL_CALLS = 8

OBSERVATION = "<|observation|>"
ASSISTANT = "<|assistant|>"

Tag = dict[str, Any]


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": schema, "max_whitespace_cnt": MAX_JSON_WHITESPACE}


def _const(text: str) -> dict[str, Any]:
    return {"type": "const_string", "value": text}


def _seq(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "sequence", "elements": list(elements)}


def _calls(tags: list[Tag], separator: str, parallel: bool) -> dict[str, Any]:
    """One call, or (``parallel``) 1..MAX_PARALLEL_CALLS calls joined by ``separator``."""
    one: dict[str, Any] = tags[0] if len(tags) == 1 else {"type": "or", "elements": tags}
    if not parallel:
        return one
    more = {"type": "sequence", "elements": [_const(separator), one]}
    return _seq(one, {"type": "repeat", "min": 0, "max": MAX_PARALLEL_CALLS - 1, "content": more})


# ----------------------------------------------------------------------------- call tags


def hermes_tag(tool: dict[str, Any]) -> Tag:
    name = tool_function(tool)["name"]
    return {
        "type": "tag",
        "begin": '<tool_call>\n{"name": ' + json.dumps(name, ensure_ascii=False) + ', "arguments": ',
        "content": _json_content(tool_parameters(tool)),
        "end": "}\n</tool_call>",
    }


def chatglm3_tag(tool: dict[str, Any], prefix: str = "") -> Tag:
    name = tool_function(tool)["name"]
    if "\n" in name:
        raise GuidedError(f"tool name {name!r} contains a newline; ChatGLM3 cannot write it")
    builder = PyLiteralGrammar()
    root = builder.kwargs_rule(tool_parameters(tool))
    return {
        "type": "tag",
        "begin": f"{prefix}{name}\n```python\ntool_call(",
        "content": {"type": "grammar", "grammar": builder.ebnf(root)},
        "end": ")\n```",
    }


def glm4_tag(tool: dict[str, Any], prefix: str = "") -> Tag:
    name = tool_function(tool)["name"]
    if "\n" in name:
        raise GuidedError(f"tool name {name!r} contains a newline; GLM-4 cannot write it")
    return {
        "type": "tag",
        "begin": f"{prefix}{name}\n",
        "content": _json_content(tool_parameters(tool)),
        "end": "",
    }


# ----------------------------------------------------------------------------- per format


def call_object_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON Schema of ``{"name": <tool>, "arguments": {...}}`` for any of ``tools``."""
    alts = [
        {
            "type": "object",
            "properties": {"name": {"const": tool_function(t)["name"]}, "arguments": tool_parameters(t)},
            "required": ["name", "arguments"],
        }
        for t in tools
    ]
    return alts[0] if len(alts) == 1 else {"anyOf": alts}


def hermes_fenced_tag(tools: list[dict[str, Any]], parallel: bool) -> Tag:
    """A fenced ```json block holding one call object (or, when ``parallel``, a list of them):
    the spelling the hermes parser tolerates and small Qwen models often choose."""
    one = call_object_schema(tools)
    schema = {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]} if parallel else one
    return {"type": "tag", "begin": JSON_FENCE + "\n", "content": _json_content(schema), "end": "\n```"}


def hermes_structure(tools: list[dict[str, Any]], mode: str, parallel: bool) -> dict[str, Any]:
    if mode == "none":
        return {"type": "any_text", "excludes": ["<tool_call>"]}
    tags = [hermes_tag(t) for t in tools]
    if mode == "auto":
        # lazy: free text until <tool_call> (or a ```json fence) starts a call
        return {
            "type": "triggered_tags",
            "triggers": ["<tool_call>", JSON_FENCE],
            "tags": [*tags, hermes_fenced_tag(tools, parallel)],
            "at_least_one": False,
            "stop_after_first": not parallel,
        }
    return _calls(tags, "\n", parallel)


def _glm_structure(
    tag_fn: Callable[..., Tag], tools: list[dict[str, Any]], mode: str, parallel: bool
) -> dict[str, Any]:
    if mode == "none":
        return _seq(_const("\n"), {"type": "any_text", "excludes": [ASSISTANT, OBSERVATION]})
    calls = _seq(_calls([tag_fn(t) for t in tools], ASSISTANT, parallel), _const(OBSERVATION))
    if mode != "auto":
        return calls
    # text first ("\n" = empty metadata line), possibly followed by calls as new assistant messages
    text_then_calls = _seq(
        _const("\n"),
        {
            "type": "triggered_tags",
            "triggers": [ASSISTANT],
            "tags": [tag_fn(t, prefix=ASSISTANT) for t in tools],
            "at_least_one": False,
            "stop_after_first": not parallel,
        },
    )
    return {"type": "or", "elements": [calls, text_then_calls]}


def chatglm3_structure(tools: list[dict[str, Any]], mode: str, parallel: bool) -> dict[str, Any]:
    return _glm_structure(chatglm3_tag, tools, mode, parallel)


def glm4_structure(tools: list[dict[str, Any]], mode: str, parallel: bool) -> dict[str, Any]:
    return _glm_structure(glm4_tag, tools, mode, parallel)


BUILDERS: dict[str, Callable[[list[dict[str, Any]], str, bool], dict[str, Any]]] = {
    "hermes": hermes_structure,
    "chatglm3": chatglm3_structure,
    "glm4": glm4_structure,
}


#: what a format writes before the content of a text answer (ChatGLM3 / GLM-4: the empty
#: metadata line after ``<|assistant|>``)
ANSWER_PREFIX = {"hermes": "", "chatglm3": "\n", "glm4": "\n"}


def response_structure(
    format_name: str, tools: list[dict[str, Any]], schema: dict[str, Any], parallel: bool
) -> dict[str, Any]:
    """An answer whose content is one JSON value following ``schema`` (a ``response_format``)
    or, when ``tools`` are given, calls of them in the format's syntax instead (as in
    ``required``; for Hermes also the fenced-JSON call small Qwen models write)."""
    content: dict[str, Any] = _json_content(schema)
    if ANSWER_PREFIX[format_name]:
        content = _seq(_const(ANSWER_PREFIX[format_name]), content)
    if not tools:
        return content
    if format_name == "hermes":
        calls = _calls([*(hermes_tag(t) for t in tools), hermes_fenced_tag(tools, parallel)], "\n", parallel)
    else:
        calls = BUILDERS[format_name](tools, "required", parallel)
    return {"type": "or", "elements": [calls, content]}


def supported_formats() -> list[str]:
    return sorted(BUILDERS)


def structural_tag(
    format_name: str,
    tools: list[dict[str, Any]],
    mode: str,
    parallel: bool,
    response_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The xgrammar structural tag (a JSON-able dict) for ``tools`` in ``format_name``'s syntax.
    ``response_schema``: in ``auto`` and ``none`` modes, a text answer is one JSON value
    following it (:func:`response_structure`); ``required`` and named turns have no text answer."""
    try:
        builder = BUILDERS[format_name]
    except KeyError:
        raise GuidedError(
            f"guided decoding has no call syntax for format {format_name!r} "
            f"(supported: {', '.join(supported_formats())})"
        ) from None
    if response_schema is not None and mode in ("auto", "none"):
        offered = tools if mode == "auto" else []
        return {
            "type": "structural_tag",
            "format": response_structure(format_name, offered, response_schema, parallel),
        }
    return {"type": "structural_tag", "format": builder(tools, mode, parallel)}
