"""The ``calltune`` command."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel

app = typer.Typer(
    name="calltune",
    help="Function calling for open LLMs: run tools with a local model, serve, fine-tune, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True)
out = Console()

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="'default' (embedded Qwen2.5-Coder-1.5B GGUF), a .gguf path, a model dir, a calltune training run, or an OpenAI-compatible URL.",
    ),
]
EngineOpt = Annotated[
    str | None, typer.Option("--engine", help="llamacpp | transformers | openai (default: from --model).")
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="chatglm3 | hermes | glm4 (default: from the model's chat template)."
    ),
]
ToolsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--tools", "-t", help="A Python file whose @tool functions the model may call (repeatable)."
    ),
]
BuiltinOpt = Annotated[
    list[str] | None,
    typer.Option("--builtin", "-b", help="Built-in tool: calculator, datetime, python (repeatable)."),
]
UploadOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--upload", help="File to put in the code interpreter's data folder (implies --builtin python)."
    ),
]


def _build_toolbox(tools: list[Path] | None, builtins: list[str] | None, uploads: list[Path] | None):
    from .tools import Toolbox, get_builtin, load_tools_file

    items: list[Any] = []
    for p in tools or []:
        items.extend(load_tools_file(p))
    names = list(builtins or [])
    if uploads and "python" not in names:
        names.append("python")
    sandbox = None
    for name in names:
        if name == "python":
            from .sandbox import Sandbox, python_tool

            sandbox = Sandbox()
            for f in uploads or []:
                sandbox.upload(f)
            items.append(python_tool(sandbox_factory=lambda sb=sandbox: sb))
        else:
            items.append(get_builtin(name))
    return Toolbox(items), sandbox


def _system_prompt(system: str | None, sandbox: Any, uploads: list[Path] | None) -> str | None:
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


def _load(model: str | None, engine: str | None, n_ctx: int | None):
    from .engines import load_engine

    kw: dict[str, Any] = {}
    if n_ctx:
        kw["n_ctx"] = n_ctx
    try:
        return load_engine(model, engine=engine, **kw)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None


def _printer(console: Console):
    state = {"in_text": False}

    def on_event(kind: str, data: Any) -> None:
        if kind == "text":
            console.print(data, end="", style="white", markup=False, highlight=False)
            state["in_text"] = True
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


def _tool_choice(value: str) -> Any:
    if value in ("auto", "none", "required"):
        return value
    return {"type": "function", "function": {"name": value}}


RelevanceOpt = Annotated[
    bool,
    typer.Option(
        "--relevance/--no-relevance",
        help="Ask the model whether a called function fits the question before running it (default on).",
    ),
]
ContinueOpt = Annotated[
    bool,
    typer.Option(
        "--continue/--no-continue",
        help="Let the model go on after its last call, so that it can make the next one (default on).",
    ),
]


@app.command()
def run(
    question: Annotated[str, typer.Argument(help="The question for the model.")],
    tools: ToolsOpt = None,
    builtin: BuiltinOpt = None,
    upload: UploadOpt = None,
    model: ModelOpt = None,
    engine: EngineOpt = None,
    format: FormatOpt = None,
    system: Annotated[str | None, typer.Option(help="System prompt.")] = None,
    tool_choice: Annotated[str, typer.Option(help="auto | none | required | a tool name.")] = "auto",
    guided: Annotated[
        bool | None,
        typer.Option(
            "--guided/--no-guided", help="Force guided decoding on/off (default: on where it helps)."
        ),
    ] = None,
    relevance: RelevanceOpt = True,
    continue_calls: ContinueOpt = True,
    max_steps: Annotated[int, typer.Option(help="Most model turns before giving up.")] = 8,
    max_tokens: Annotated[int, typer.Option(help="Most tokens per model turn.")] = 512,
    temperature: Annotated[float, typer.Option()] = 0.0,
    seed: Annotated[int | None, typer.Option()] = None,
    n_ctx: Annotated[int | None, typer.Option(help="Context window for local engines.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full trace as JSON on stdout.")] = False,
) -> None:
    """Ask one question; the model calls your tools until it can answer."""
    from .agent import Agent
    from .engines import SamplingParams

    toolbox, sandbox = _build_toolbox(tools, builtin, upload)
    eng = _load(model, engine, n_ctx)
    try:
        agent = Agent(
            eng,
            toolbox,
            format=_format_for(format, eng, sandbox),
            system=_system_prompt(system, sandbox, upload),
            max_steps=max_steps,
            tool_choice=_tool_choice(tool_choice),
            guided=guided,
            check_relevance=relevance,
            continue_calls=continue_calls,
            params=SamplingParams(max_tokens=max_tokens, temperature=temperature, seed=seed),
            on_event=None if as_json else _printer(err),
        )
        result = agent.run(question)
    finally:
        if sandbox is not None:
            sandbox.close()
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        err.print()
        out.print(
            Panel(result.answer or "(no answer)", title="answer", border_style="green"), highlight=False
        )
    if result.trace.stopped == "error":
        err.print(f"[red]error:[/red] {result.trace.error}")
        raise typer.Exit(1)


@app.command()
def chat(
    tools: ToolsOpt = None,
    builtin: BuiltinOpt = None,
    upload: UploadOpt = None,
    model: ModelOpt = None,
    engine: EngineOpt = None,
    format: FormatOpt = None,
    system: Annotated[str | None, typer.Option(help="System prompt.")] = None,
    guided: Annotated[bool | None, typer.Option("--guided/--no-guided")] = None,
    relevance: RelevanceOpt = True,
    continue_calls: ContinueOpt = True,
    max_tokens: Annotated[int, typer.Option()] = 512,
    temperature: Annotated[float, typer.Option()] = 0.0,
    n_ctx: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Interactive chat; tool calls and results are shown as they happen. /reset clears, /exit quits."""
    from .agent import Agent
    from .engines import SamplingParams

    toolbox, sandbox = _build_toolbox(tools, builtin, upload)
    eng = _load(model, engine, n_ctx)
    agent = Agent(
        eng,
        toolbox,
        format=_format_for(format, eng, sandbox),
        system=_system_prompt(system, sandbox, upload),
        guided=guided,
        check_relevance=relevance,
        continue_calls=continue_calls,
        params=SamplingParams(max_tokens=max_tokens, temperature=temperature),
        on_event=_printer(out),
    )
    names = ", ".join(toolbox.names()) or "none"
    err.print(f"[dim]model {eng.model_id} · format {agent.format.name} · tools: {names} · /reset /exit[/dim]")
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
    finally:
        if sandbox is not None:
            sandbox.close()


@app.command()
def prompt(
    question: Annotated[str, typer.Argument(help="A user message.")],
    tools: ToolsOpt = None,
    builtin: BuiltinOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="chatglm3 | hermes | glm4")] = "hermes",
    system: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Print the exact prompt a format renders for a question and tools (role markers included)."""
    from .formats import get_format

    toolbox, _ = _build_toolbox(tools, [b for b in builtin or [] if b != "python"], None)
    msgs: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": question})
    sys.stdout.write(get_format(format).render(msgs, toolbox.specs() or None) + "\n")


_SUBCOMMANDS = ("engines", "server", "train", "eval", "guided", "sandbox", "tools", "formats")


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
