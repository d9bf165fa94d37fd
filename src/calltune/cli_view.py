"""How ``calltune run`` and ``calltune chat`` show an agent run as it happens.

:class:`AgentView` is the agent's ``on_event`` handler. On a terminal a status line with a
spinner says what is going on while nothing is printed: the model thinking, the relevance check,
each tool running (by name). The model's text is streamed as it is written; calls, observations
(one line when they fit, else a few lines cut at the terminal's width, never wrapped mid-line)
and the files the code interpreter saved (their copies on this machine) are printed as they
come. Off a terminal there is no status line.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.status import Status
from rich.text import Text

#: an observation shown on more lines (or, as text, more characters) than this is cut, with a note
MAX_OBSERVATION_LINES = 12
MAX_OBSERVATION_CHARS = 800
INTERPRETER_TOOL = "python"


def observation_lines(content: str) -> tuple[list[str], bool]:
    """The observation as lines to show (JSON indented when it is JSON), and whether it is JSON."""
    try:
        value = json.loads(content)
    except (json.JSONDecodeError, ValueError):
        return content.splitlines() or [""], False
    if not isinstance(value, dict | list):
        return content.splitlines() or [""], False
    return json.dumps(value, indent=2, ensure_ascii=False).splitlines(), True


class AgentView:
    """The ``on_event`` handler of an :class:`~calltune.agent.Agent` for a console.

    ``console``: where the status line, calls and observations go. ``text_console``: where the
    model's text is streamed (default: ``console``; None: it is not shown, e.g. when the answer
    is printed on its own afterwards). Use it as a context manager, or call :meth:`close`, so
    the status line is always taken down."""

    def __init__(self, console: Console, text_console: Console | None | bool = True) -> None:
        self.console = console
        self.text_console: Console | None = console if text_console is True else (text_console or None)
        self._live = console.is_terminal and not console.is_dumb_terminal
        self._status: Status | None = None
        self._in_text: str | None = None  # the kind of text being printed ("text", "reasoning")
        self._running: list[str] = []  # tools running now
        #: the text streamed since the last model turn started
        self.step_text = ""
        #: host paths of the files the code interpreter saved, in order
        self.files: list[str] = []

    # -- the status line ------------------------------------------------------------------------
    def status(self, message: str) -> None:
        """Show ``message`` on the status line (terminals only)."""
        if not self._live:
            return
        self._end_text()
        if self._status is None:
            self._status = self.console.status(message, spinner="dots")
            self._status.start()
        # naming the spinner makes rich draw the line now, not at its next tick
        self._status.update(message, spinner="dots")

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _end_text(self) -> None:
        if self._in_text and self.text_console is not None:
            self.text_console.print()
        self._in_text = None

    def close(self) -> None:
        """Take the status line down and end a line of streamed text."""
        self._stop_status()
        self._end_text()
        self._running = []

    def __enter__(self) -> AgentView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def shown(self, answer: str) -> bool:
        """Whether ``answer`` was streamed in full during the last model turn."""
        return self.text_console is not None and self.step_text.strip().endswith(answer.strip())

    # -- events ---------------------------------------------------------------------------------
    def __call__(self, kind: str, data: Any) -> None:
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(data)

    def _on_step(self, index: int) -> None:
        self.step_text = ""
        self.status("thinking…" if index == 0 else "thinking about the results…")

    def _on_text(self, text: str, kind: str = "text") -> None:
        if kind == "text":
            self.step_text += text
        if self.text_console is None:
            self.status("writing…")
            return
        self._stop_status()
        if self._in_text and self._in_text != kind:
            self.text_console.print()
        style = None if kind == "text" else "dim italic"  # a reasoning model's thinking, dimmed
        self.text_console.print(text, end="", style=style, markup=False, highlight=False)
        self._in_text = kind

    def _on_reasoning(self, text: str) -> None:
        self._on_text(text, "reasoning")

    def _on_relevance(self, data: dict[str, Any]) -> None:
        if data.get("state") == "start":
            self.status(f"checking that {', '.join(data.get('functions') or [])} fits the question…")
        else:
            self.status("thinking…")

    def _on_call(self, call: Any) -> None:
        self._print_line(
            Text.assemble(
                ("→ call ", "bold cyan"), f"{call.name}({json.dumps(call.arguments, ensure_ascii=False)})"
            )
        )
        self._running.append(call.name)
        self.status(f"running {', '.join(self._running)}…")

    def _on_observation(self, rec: dict[str, Any]) -> None:
        name = rec.get("name", "")
        if name in self._running:
            self._running.remove(name)
        content, saved = rec.get("content", ""), []
        if name == INTERPRETER_TOOL:
            from .sandbox.result import split_saved

            content, saved = split_saved(content)
        self._stop_status()
        self._end_text()
        self._print_observation(name, content, bool(rec.get("ok")))
        for _, copy in saved:
            self.files.append(copy)
            self.console.print(Text.assemble(("  ↳ saved ", "green"), copy), soft_wrap=True)
        if self._running:
            self.status(f"running {', '.join(self._running)}…")

    def _on_dropped(self, names: list[str]) -> None:
        self._print_line(Text(f"· not called: {', '.join(names)} (judged not to fit the question)", "dim"))

    def _on_parse_error(self, err: dict[str, Any]) -> None:
        self._print_line(Text.assemble(("✗ unparseable call: ", "red"), str(err.get("message", ""))))

    def _on_answer(self, _: str) -> None:
        self._stop_status()
        self._end_text()

    # -- printing -------------------------------------------------------------------------------
    def _print_line(self, text: Text) -> None:
        self._stop_status()
        self._end_text()
        self.console.print(text, soft_wrap=True, highlight=False)

    def _print_observation(self, name: str, content: str, ok: bool) -> None:
        style = "green" if ok else "red"
        head = Text(f"← {name}: ", style)
        lines, is_json = observation_lines(content)
        if is_json:
            one = json.dumps(json.loads(content), ensure_ascii=False)
            if len(head) + len(one) <= self.console.width:
                lines = [one]
        if len(lines) == 1 and len(head) + len(lines[0]) <= self.console.width:
            body = Text(lines[0])
            if is_json:
                JSONHighlighter().highlight(body)
            self.console.print(head + body, highlight=False)
            return
        self.console.print(head, highlight=False)
        whole = "\n".join(lines)
        shown = "\n".join(lines[:MAX_OBSERVATION_LINES])
        if is_json:  # JSON lines are cut at the terminal's width, never wrapped
            body = Text("\n".join("  " + line for line in lines[:MAX_OBSERVATION_LINES]))
            JSONHighlighter().highlight(body)
            self.console.print(body, highlight=False, no_wrap=True, overflow="ellipsis")
        else:  # text wraps like text
            shown = shown[:MAX_OBSERVATION_CHARS]
            self.console.print(Text(shown), highlight=False)
        if len(shown) < len(whole):
            more = whole[len(shown) :]
            left = f"{more.count(chr(10))} more lines" if is_json else f"{len(more):,} more characters"
            self.console.print(Text(f"  … ({left})", "dim"))
