"""The ``calltune`` command."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.console import Console
from rich.panel import Panel

from .cli_options import (
    BuiltinOpt,
    ContinueOpt,
    EngineOpt,
    FormatNameOpt,
    FormatOpt,
    GroundingOpt,
    GuidedOpt,
    JsonOpt,
    MaxTokensOpt,
    McpOpt,
    ModelOpt,
    NCtxOpt,
    RelevanceOpt,
    SystemOpt,
    ToolChoiceOpt,
    ToolsOpt,
    engine_from_options,
    fail,
    option_group,
    toolbox_from_options,
)

app = typer.Typer(
    name="calltune",
    help="Function calling for open LLMs: run tools with a local model, serve, fine-tune, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True)
out = Console()

UploadOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--upload", help="File to put in the code interpreter's data folder (implies --builtin python)."
    ),
]


@dataclass
class AgentOptions:
    """The options ``run`` and ``chat`` share: the tools, the model and how the agent calls."""

    tools: ToolsOpt = None
    builtin: BuiltinOpt = None
    upload: UploadOpt = None
    mcp: McpOpt = None
    model: ModelOpt = None
    engine: EngineOpt = None
    format: FormatOpt = None
    system: SystemOpt = None
    guided: GuidedOpt = None
    relevance: RelevanceOpt = True
    grounding: GroundingOpt = True
    continue_calls: ContinueOpt = True
    max_tokens: MaxTokensOpt = 512
    temperature: Annotated[float, typer.Option(help="Sampling temperature (0: greedy).")] = 0.0
    n_ctx: NCtxOpt = None


class AgentSession(NamedTuple):
    agent: Any  # calltune.agent.Agent
    engine: Any  # calltune.engines.Engine
    toolbox: Any  # calltune.tools.Toolbox


def _build_toolbox(
    tools: list[Path] | None,
    builtins: list[str] | None,
    uploads: list[Path] | None,
    mcp: list[str] | None = None,
):
    """The Toolbox (with the tools of the ``mcp`` servers), and the Sandbox behind the ``python``
    tool when it is on (None otherwise)."""
    names = list(builtins or [])
    if uploads and "python" not in names:
        names.append("python")
    if "python" not in names:
        return toolbox_from_options(tools, names, mcp=mcp), None
    from .sandbox import Sandbox, python_tool

    sandbox = Sandbox()
    try:
        for f in uploads or []:
            sandbox.upload(f)
        python = python_tool(sandbox_factory=lambda: sandbox)
        return toolbox_from_options(tools, names, overrides={"python": python}, mcp=mcp), sandbox
    except BaseException:
        sandbox.close()
        raise


def _system_prompt(system: str | None, sandbox: Any) -> str | None:
    if sandbox is None:
        return system
    from .sandbox import system_prompt as sandbox_prompt

    extra = sandbox_prompt(sandbox)
    return f"{system}\n\n{extra}" if system else extra


def _format_for(format: str | None, eng: Any, sandbox: Any) -> Any:
    """With the code interpreter on, a plain ```python answer (what code models write
    instead of a call) runs as interpreter code."""
    if sandbox is None:
        return format
    from .sandbox import with_code_fallback

    return with_code_fallback(format or eng.default_format)


@contextmanager
def open_agent(opts: AgentOptions, *, seed: int | None = None, **agent_kw: Any) -> Iterator[AgentSession]:
    """The Agent the options describe (tools, engine, sandbox for ``python``); the sandbox and the
    engine are closed on leaving. ``agent_kw`` go to :class:`calltune.agent.Agent`."""
    from .agent import Agent
    from .engines import SamplingParams

    toolbox, sandbox = _build_toolbox(opts.tools, opts.builtin, opts.upload, opts.mcp)
    eng = None
    try:
        eng = engine_from_options(opts.model, opts.engine, opts.n_ctx)
        agent = Agent(
            eng,
            toolbox,
            format=_format_for(opts.format, eng, sandbox),
            system=_system_prompt(opts.system, sandbox),
            guided=opts.guided,
            check_relevance=opts.relevance,
            ground_arguments=opts.grounding,
            continue_calls=opts.continue_calls,
            params=SamplingParams(max_tokens=opts.max_tokens, temperature=opts.temperature, seed=seed),
            **agent_kw,
        )
        yield AgentSession(agent, eng, toolbox)
    finally:
        toolbox.close()
        if sandbox is not None:
            sandbox.close()
        if eng is not None:
            eng.close()


def _printer(console: Console):
    state: dict[str, Any] = {"in_text": False}  # False, or the kind of text being printed

    def on_event(kind: str, data: Any) -> None:
        if kind in ("text", "reasoning"):  # a reasoning model's thinking, dimmed, before its answer
            if state["in_text"] and state["in_text"] != kind:
                console.print()
            style = "white" if kind == "text" else "dim italic"
            console.print(data, end="", style=style, markup=False, highlight=False)
            state["in_text"] = kind
            return
        if state["in_text"]:
            console.print()
            state["in_text"] = False
        if kind == "call":
            args = json.dumps(data.arguments, ensure_ascii=False)
            console.print(f"[bold cyan]→ call[/bold cyan] {data.name}({args})", markup=True, highlight=False)
        elif kind == "observation":
            style = "green" if data.get("ok") else "red"
            text = data["content"]
            if len(text) > 800:
                text = text[:800] + " …"
            console.print(f"[{style}]← {data['name']}:[/{style}] ", end="")
            console.print(text, markup=False, highlight=False)
        elif kind == "dropped":
            names = ", ".join(data)
            console.print(
                f"[dim]· not called: {names} (judged not to fit the question)[/dim]", highlight=False
            )
        elif kind == "parse_error":
            console.print(f"[red]✗ unparseable call:[/red] {data['message']}", highlight=False)

    return on_event


SchemaOpt = Annotated[
    Path | None,
    typer.Option(
        "--schema",
        exists=True,
        dir_okay=False,
        help="A JSON Schema file (or an OpenAI response_format / json_schema object): the answer is "
        "JSON that follows it, enforced by guided decoding.",
    ),
]


def _schema_file(path: Path) -> Any:
    """The response format a ``--schema`` file describes (exits with status 2 when it is not one)."""
    from .turn import ResponseFormatError, schema_response_format

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:64] or "response"
        return schema_response_format(doc, name=name)
    except (OSError, json.JSONDecodeError, ResponseFormatError) as e:
        raise fail(f"{path}: {e}") from None


def _tool_choice(value: str) -> Any:
    if value in ("auto", "none", "required"):
        return value
    return {"type": "function", "function": {"name": value}}


@app.command()
@option_group(AgentOptions)
def run(
    question: Annotated[str, typer.Argument(help="The question for the model.")],
    opts: AgentOptions,
    tool_choice: ToolChoiceOpt = "auto",
    max_steps: Annotated[int, typer.Option(help="Most model turns before giving up.")] = 8,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    as_json: JsonOpt = False,
    schema: SchemaOpt = None,
) -> None:
    """Ask one question; the model calls your tools until it can answer (--json: the full trace;
    --schema: the answer is a JSON object following the schema, printed on stdout)."""
    response_format = _schema_file(schema) if schema else None
    with open_agent(
        opts,
        seed=seed,
        max_steps=max_steps,
        tool_choice=_tool_choice(tool_choice),
        on_event=None if as_json else _printer(err),
        response_format=response_format,
    ) as session:
        result = session.agent.run(question)
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    elif response_format is not None:
        try:
            if result.trace.stopped != "error":
                sys.stdout.write(json.dumps(result.parsed(), ensure_ascii=False, indent=2) + "\n")
        except json.JSONDecodeError:
            err.print(f"[red]error:[/red] the answer is not complete JSON ({result.trace.stopped}): ", end="")
            err.print(result.answer, markup=False, highlight=False)
            raise typer.Exit(1) from None
    else:
        err.print()
        out.print(
            Panel(result.answer or "(no answer)", title="answer", border_style="green"), highlight=False
        )
    if result.trace.stopped == "error":
        err.print(f"[red]error:[/red] {result.trace.error}")
        raise typer.Exit(1)


@app.command()
@option_group(AgentOptions)
def chat(opts: AgentOptions) -> None:
    """Interactive chat; tool calls and results are shown as they happen. /reset clears, /exit quits."""
    with open_agent(opts, on_event=_printer(out)) as (agent, eng, toolbox):
        names = ", ".join(toolbox.names()) or "none"
        err.print(
            f"[dim]model {eng.model_id} · format {agent.format.name} · tools: {names} · /reset /exit[/dim]"
        )
        history: list[dict[str, Any]] = []
        try:
            while True:
                try:
                    line = input("\nyou> ").strip()
                except EOFError:
                    break
                if not line:
                    continue
                if line in ("/exit", "/quit"):
                    break
                if line == "/reset":
                    history = []
                    err.print("[dim]history cleared[/dim]")
                    continue
                result = agent.run(line, history=history)
                out.print()
                if result.trace.stopped == "error":
                    err.print(f"[red]error:[/red] {result.trace.error}")
                    continue
                history = result.messages
        except KeyboardInterrupt:
            pass


@app.command()
def prompt(
    question: Annotated[str, typer.Argument(help="A user message.")],
    tools: ToolsOpt = None,
    builtin: BuiltinOpt = None,
    format: FormatNameOpt = "hermes",
    system: SystemOpt = None,
) -> None:
    """Print the exact prompt a format renders for a question and tools (role markers included)."""
    from .formats import get_format

    toolbox = toolbox_from_options(tools, [b for b in builtin or [] if b != "python"])
    msgs: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": question})
    sys.stdout.write(get_format(format).render(msgs, toolbox.specs() or None) + "\n")


_SUBCOMMANDS = ("engines", "server", "train", "eval", "guided", "sandbox", "tools", "formats", "mcp")


def _register_all() -> None:
    for pkg in _SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"calltune.{pkg}.cli")
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(f"calltune.{pkg}"):
                continue
            raise
        mod.register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
