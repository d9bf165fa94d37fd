"""The ``calltune`` command."""

from __future__ import annotations

import importlib
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from rich.console import Console

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
OutDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--out-dir",
        file_okay=False,
        help="Folder on this machine where the files and figures the code interpreter writes are "
        "copied (default: ./calltune-out/<run-id>/).",
    ),
]


def default_out_dir() -> Path:
    """``./calltune-out/<run-id>/``: the run id is the start time and a few random characters."""
    return Path.cwd() / "calltune-out" / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


@dataclass
class AgentOptions:
    """The options ``run`` and ``chat`` share: the tools, the model and how the agent calls."""

    tools: ToolsOpt = None
    builtin: BuiltinOpt = None
    upload: UploadOpt = None
    out_dir: OutDirOpt = None
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
    sandbox: Any  # calltune.sandbox.Sandbox behind the python tool, or None


def _build_toolbox(
    tools: list[Path] | None,
    builtins: list[str] | None,
    uploads: list[Path] | None,
    mcp: list[str] | None = None,
    out_dir: Path | None = None,
):
    """The Toolbox (with the tools of the ``mcp`` servers), and the Sandbox behind the ``python``
    tool when it is on (None otherwise); the files its code writes are copied to ``out_dir``."""
    names = list(builtins or [])
    if uploads and "python" not in names:
        names.append("python")
    if "python" not in names:
        return toolbox_from_options(tools, names, mcp=mcp), None
    from .sandbox import Sandbox, python_tool

    sandbox = Sandbox(out_dir=out_dir or default_out_dir())
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

    toolbox, sandbox = _build_toolbox(opts.tools, opts.builtin, opts.upload, opts.mcp, opts.out_dir)
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
        yield AgentSession(agent, eng, toolbox, sandbox)
    finally:
        toolbox.close()
        if sandbox is not None:
            sandbox.close()
        if eng is not None:
            eng.close()


def _same_file(a: Any, b: Any) -> bool:
    """Whether two streams write to the same place (``2>&1``, one terminal)."""
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return False


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
    from .cli_view import AgentView

    response_format = _schema_file(schema) if schema else None
    # the answer is printed once: streamed on stdout when it is a terminal (and plain text),
    # else written to stdout at the end while the progress (and the text, unless stderr goes
    # to the same place) is shown on stderr
    streamed = out.is_terminal and response_format is None
    text_to = out if streamed else (None if _same_file(sys.stdout, sys.stderr) else err)
    with AgentView(err, text_to) as view:
        if not as_json:
            view.status("loading the model…")
        with open_agent(
            opts,
            seed=seed,
            max_steps=max_steps,
            tool_choice=_tool_choice(tool_choice),
            on_event=None if as_json else view,
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
    elif not result.answer:
        err.print("[dim](no answer)[/dim]")
    elif streamed:
        if not view.shown(result.answer):
            out.print(result.answer, markup=False, highlight=False)
    else:
        sys.stdout.write(result.answer + "\n")
    if result.trace.stopped == "error":
        err.print(f"[red]error:[/red] {result.trace.error}")
        raise typer.Exit(1)


@app.command()
@option_group(AgentOptions)
def chat(opts: AgentOptions) -> None:
    """Interactive chat; tool calls and results are shown as they happen. Ctrl-C stops a turn (it
    is not kept), a second Ctrl-C at the empty prompt quits; /reset clears, /exit quits."""
    from .chat_repl import chat_loop
    from .cli_view import AgentView

    with AgentView(out) as view:
        view.status("loading the model…")
        with open_agent(opts, on_event=view) as session:
            view.close()
            names = ", ".join(session.toolbox.names()) or "none"
            err.print(
                f"[dim]model {session.engine.model_id} · format {session.agent.format.name} · "
                f"tools: {names} · /reset /exit[/dim]"
            )
            if session.sandbox is not None:
                err.print(f"[dim]files the code writes are copied to {session.sandbox.out_dir}[/dim]")
            interrupt = session.sandbox.interrupt if session.sandbox is not None else None
            chat_loop(session.agent, view, out, on_interrupt=interrupt)


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


_SUBCOMMANDS = (
    "engines",
    "server",
    "train",
    "datagen",
    "distill",
    "eval",
    "guided",
    "sandbox",
    "tools",
    "formats",
    "mcp",
)


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
