"""The options several ``calltune`` commands share, each declared once with one help text, and the
helpers that turn them into an engine or a toolbox.

A command takes an option by annotating a parameter with its alias (``model: ModelOpt = None``);
:func:`option_group` lets commands share a whole group of options as one dataclass.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from .errors import CalltuneError

if TYPE_CHECKING:
    from .engines import Engine
    from .tools import Tool, Toolbox

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="'default' (embedded Qwen2.5-Coder-1.5B GGUF), a .gguf path, a model dir or hub id, "
        "a calltune training run, or an OpenAI-compatible URL (openai:URL).",
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="llamacpp | transformers | openai | scripted (a JSON script as --model; no model) "
        "(default: from --model).",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="Chat format: chatglm3 | hermes | glm4 (default: from the model's chat template).",
    ),
]
FormatNameOpt = Annotated[str, typer.Option("--format", "-f", help="Chat format: chatglm3 | hermes | glm4.")]
NCtxOpt = Annotated[
    int | None,
    typer.Option("--n-ctx", "--ctx", help="Context window, in tokens, to load a local model with."),
]
#: the BFCL overlap a data-generation run allows (None: calltune.datagen.decontam.DEFAULT_THRESHOLD)
ThresholdOpt = Annotated[
    float | None, typer.Option("--threshold", help="Largest BFCL overlap allowed (default 0.5).")
]
GuidedOpt = Annotated[
    bool | None,
    typer.Option(
        "--guided/--no-guided",
        help="Guided decoding for every tool call (tool_choice auto too) / never "
        "(default: for required and named tool choices).",
    ),
]
ToolChoiceOpt = Annotated[str, typer.Option("--tool-choice", help="auto | none | required | a tool name.")]
MaxTokensOpt = Annotated[int, typer.Option("--max-tokens", help="Most tokens the model may write per turn.")]
SystemOpt = Annotated[
    str | None, typer.Option("--system", help="System prompt (default: the chat format's own).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (for scripts).")]
ToolsOpt = Annotated[
    list[Path] | None,
    typer.Option("--tools", "-t", help="A Python file with @tool functions (or a TOOLS list); repeatable."),
]
ToolSourcesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tools",
        "-t",
        help="Tools to write requests for: a .py file of @tool functions (or TOOLS), an OpenAI tools JSON "
        "file (results simulated by the teacher), or an importable module name; repeatable "
        "(default: the shipped library).",
    ),
]
ToolsFileOpt = Annotated[
    Path,
    typer.Option("--tools", "-t", exists=True, dir_okay=False, help="A .py tools file or OpenAI tools JSON."),
]
BuiltinOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--builtin", "-b", help="A built-in tool: calculator, datetime, python, browser (repeatable)."
    ),
]
McpOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--mcp",
        help="An MCP server whose tools the model may call: a command line run over stdio "
        "('python server.py') or a streamable-HTTP URL (http://127.0.0.1:PORT/mcp); repeatable.",
    ),
]
GroundingOpt = Annotated[
    bool,
    typer.Option(
        "--grounding/--no-grounding",
        help="Leave out optional arguments the conversation does not support; generate again when a "
        "required one is the example copied from the tool's description.",
    ),
]
RelevanceOpt = Annotated[
    bool,
    typer.Option(
        "--relevance/--no-relevance",
        help="Ask the model whether a called function fits the question before running it.",
    ),
]
ContinueOpt = Annotated[
    bool,
    typer.Option(
        "--continue/--no-continue",
        help="Let the model go on after its last call, so that it can make the next one.",
    ),
]
TeacherOpt = Annotated[
    str | None,
    typer.Option(
        "--teacher",
        help="The teacher model: any --model reference (default: the embedded default model).",
    ),
]
BfclThresholdOpt = Annotated[
    float | None,
    typer.Option("--threshold", help="Largest overlap of a request with a BFCL question (default 0.5)."),
]

#: what loading a model raises for a bad --model / --engine (calltune's own errors, missing files)
LOAD_ERRORS: tuple[type[Exception], ...] = (CalltuneError, FileNotFoundError, ValueError, RuntimeError)


def fail(error: Exception | str, code: int = 2) -> typer.Exit:
    """Print ``error: ...`` on stderr and return the :class:`typer.Exit` to raise (``raise fail(e)``)."""
    Console(stderr=True).print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
    return typer.Exit(code)


def engine_from_options(
    model: str | None,
    engine: str | None = None,
    n_ctx: int | None = None,
    *,
    exit_on_error: bool = True,
    **kwargs: Any,
) -> Engine:
    """Load the engine that ``--model``, ``--engine`` and ``--n-ctx`` name (through
    :func:`calltune.engines.load_engine`). A model that cannot be loaded exits with status 2, or,
    with ``exit_on_error=False`` (for callers outside a command), raises one of :data:`LOAD_ERRORS`."""
    from . import engines

    if n_ctx:
        kwargs["n_ctx"] = n_ctx
    try:
        return engines.load_engine(model, engine=engine, **kwargs)
    except LOAD_ERRORS as e:
        if not exit_on_error:
            raise
        raise fail(e) from None


def parallel_kwargs(model: str | None, engine: str | None, parallel: int) -> dict[str, Any]:
    """``{"parallel": n}`` when ``model`` loads on llama.cpp and ``n > 1`` (its engine then decodes
    ``n`` sequences together); ``{}`` otherwise (a remote server batches on its own)."""
    from .engines.loader import plan_engine

    if parallel <= 1:
        return {}
    try:
        kind = plan_engine(model, engine).engine
    except Exception:  # noqa: BLE001 - the load itself reports a bad model
        return {}
    return {"parallel": parallel} if kind == "llamacpp" else {}


def toolbox_from_options(
    files: list[Path] | None,
    builtins: list[str] | None,
    *,
    timeout: float = 30.0,
    overrides: Mapping[str, Tool] | None = None,
    mcp: list[str] | None = None,
) -> Toolbox:
    """The Toolbox of ``--tools`` files (their @tool functions), ``--builtin`` names and the tools of
    the ``--mcp`` servers, in that order; ``overrides`` gives the tool to use for a built-in name
    instead of :func:`get_builtin`'s. MCP tools whose names clash are renamed (a warning on stderr
    says so); close the toolbox to end the MCP sessions. A file, name or server that cannot be
    loaded exits with status 2."""
    from .mcp.errors import McpError
    from .tools import Toolbox, ToolError, get_builtin, load_tools_file

    chosen = dict(overrides or {})
    try:
        items: list[Any] = [t for f in files or [] for t in load_tools_file(f)]
        items += [chosen[name] if name in chosen else get_builtin(name) for name in builtins or []]
        toolbox = Toolbox(items, timeout=timeout)
        if mcp:
            from .mcp import attach

            for warning in attach(toolbox, mcp).warnings:
                Console(stderr=True).print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
        return toolbox
    except (ToolError, McpError) as e:
        raise fail(e) from None


G = TypeVar("G")
F = TypeVar("F", bound=Callable[..., Any])


def option_group(group: type[G], name: str = "opts") -> Callable[[F], F]:
    """Decorator for a command whose parameter ``name`` is the dataclass ``group``: on the command
    line it becomes the group's fields (each annotated with an option alias, with its default), and
    the command is called with one ``group`` object built from them."""
    hints = typing.get_type_hints(group, include_extras=True)
    fields = [f for f in dataclasses.fields(group) if f.init]
    shared = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
        for f in fields
    ]

    def decorate(fn: F) -> F:
        own = list(inspect.signature(fn, eval_str=True).parameters.values())
        if name not in [p.name for p in own]:
            raise TypeError(f"{fn.__name__} has no parameter {name!r} for {group.__name__}")
        params: list[inspect.Parameter] = []
        for p in own:
            params.extend(shared if p.name == name else [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)])

        @functools.wraps(fn)
        def command(**kw: Any) -> Any:
            values = {f.name: kw.pop(f.name) for f in fields}
            return fn(**kw, **{name: group(**values)})

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate
