"""``calltune formats ...``: list formats, render a dialogue (with its loss mask), parse model output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cli_options import FormatNameOpt


def _load_dialogue(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise typer.BadParameter(f"cannot read {path}: {e}") from None
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        return data["messages"], data.get("tools")
    raise typer.BadParameter(f"{path}: expected a list of messages or {{'messages': [...], 'tools': [...]}}")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(
        help="Chat formats: render prompts and loss masks, parse model output.", no_args_is_help=True
    )

    @sub.command("list")
    def list_cmd() -> None:
        """The format names."""
        from . import list_formats

        for name in list_formats():
            typer.echo(name)

    @sub.command("render")
    def render_cmd(
        dialogue: Annotated[Path, typer.Argument(help="JSON: a message list or {messages, tools}.")],
        format: FormatNameOpt = "hermes",
        no_generation_prompt: Annotated[bool, typer.Option(help="Leave out the generation prompt.")] = False,
        loss: Annotated[bool, typer.Option(help="Show the trained (unshifted loss) text in green.")] = False,
    ) -> None:
        """Print the exact text a format renders (role markers included)."""
        from rich.console import Console
        from rich.text import Text

        from . import FormatError, get_format

        msgs, tools = _load_dialogue(dialogue)
        try:
            segs = get_format(format).segments(msgs, tools, not no_generation_prompt)
        except (FormatError, ValueError) as e:
            raise typer.BadParameter(str(e)) from None
        if not loss:
            sys.stdout.write("".join(s.text for s in segs) + "\n")
            return
        out = Text()
        for s in segs:
            out.append(s.text, style="bold green" if s.loss else ("cyan" if s.special else ""))
        Console(highlight=False).print(out)

    @sub.command("parse")
    def parse_cmd(
        output: Annotated[
            Path | None, typer.Argument(help="File with the model output (default: stdin).")
        ] = None,
        format: FormatNameOpt = "hermes",
        tool: Annotated[
            list[str] | None, typer.Option("--tool", "-t", help="A known tool name (repeatable).")
        ] = None,
    ) -> None:
        """Parse one assistant turn; print content, calls and errors as JSON."""
        from . import get_format

        text = output.read_text(encoding="utf-8") if output else sys.stdin.read()
        res = get_format(format).parse(text, tool_names=tool or None)  # type: ignore[call-arg]
        doc = {
            "content": res.content,
            "tool_calls": [c.to_dict() for c in res.tool_calls],
            "errors": [e.to_dict() for e in res.errors],
            "code": res.code,
        }
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")

    app.add_typer(sub, name="formats")
