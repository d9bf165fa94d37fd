"""The ``calltune chat`` loop: read a question, run the agent on it with the history, repeat.

Ctrl-C while the model writes, while the relevance check or a tool runs stops that turn and
comes back to the prompt. The interrupted turn is not kept: the history is what it was before
the question (a partial answer would otherwise be read as the model's own next time). A Python
tool function already running finishes in the background and its result is dropped; a
code-interpreter cell is interrupted. A second Ctrl-C with nothing typed at the prompt quits;
Ctrl-C with text typed clears the line. ``/reset`` clears the history, ``/exit`` (or Ctrl-D)
quits. A SIGINT ignored by the parent (a shell's background job, a test runner's worker pass
that on to their children) is taken back: Ctrl-C is how the chat stops a turn.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from typing import Any

from rich.console import Console

from .cli_view import AgentView

PROMPT = "\nyou> "
QUIT_HINT = "[dim](Ctrl-C again to quit, or /exit)[/dim]"


def _typed_text() -> str:
    """What was typed at the prompt when Ctrl-C came ("" when readline is not in use)."""
    try:
        import readline
    except ImportError:  # pragma: no cover - no readline on this platform
        return ""
    return readline.get_line_buffer()


def chat_loop(
    agent: Any,
    view: AgentView,
    console: Console,
    *,
    on_interrupt: Callable[[], None] | None = None,
    read: Callable[[str], str] = input,
) -> list[dict[str, Any]]:
    """Run the chat until the user quits; the history at the end. ``on_interrupt`` is called
    after Ctrl-C stopped a turn (e.g. to interrupt the code interpreter's cell)."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - line editing and history for input()
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)

    history: list[dict[str, Any]] = []
    armed = False  # the last key was Ctrl-C: one more at an empty prompt quits
    try:
        while True:
            try:
                line = read(PROMPT).strip()
            except EOFError:
                break
            except KeyboardInterrupt:
                if _typed_text().strip():  # the line is cleared, nothing else
                    console.print()
                    armed = False
                    continue
                if armed:
                    break
                armed = True
                console.print("\n" + QUIT_HINT, highlight=False)
                continue
            armed = False
            if not line:
                continue
            if line in ("/exit", "/quit"):
                break
            if line == "/reset":
                history = []
                console.print("[dim]history cleared[/dim]")
                continue
            try:
                result = agent.run(line, history=history)
            except KeyboardInterrupt:
                view.close()
                if on_interrupt is not None:
                    on_interrupt()
                console.print(
                    "[yellow]interrupted[/yellow] [dim]— this question is not kept in the conversation[/dim] "
                    + QUIT_HINT,
                    highlight=False,
                )
                armed = True
                continue
            finally:
                view.close()
            if result.answer and not view.shown(result.answer):
                console.print(result.answer, markup=False, highlight=False)
            if result.trace.stopped == "error":
                console.print(f"[red]error:[/red] {result.trace.error}", highlight=False)
                continue
            history = result.messages
    except KeyboardInterrupt:  # a second Ctrl-C while the first was being handled
        view.close()
    console.print()
    return history
