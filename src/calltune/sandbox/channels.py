"""Client channels to the kernel (jupyter_client): readiness, one cell's IOPub messages collected
into a :class:`CellResult`, and reconnecting a lost output channel."""

from __future__ import annotations

import contextlib
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import SandboxError
from .limits import Limits
from .process import KernelProcess
from .result import CellResult, strip_ansi, trim_traceback, truncate_middle

# how long to wait for a cell's output after the kernel replied (IOPub may lag the shell under load)
_IOPUB_GRACE_S = 3.0


class KernelChannels:
    """The shell and IOPub channels to the kernel of ``process`` (its connection file)."""

    def __init__(self, process: KernelProcess, startup_timeout: float) -> None:
        self._process = process
        self._startup_timeout = startup_timeout
        self.client: Any = None

    def connect(self) -> None:
        """Client channels to the kernel, ready once shell and IOPub answer."""
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_file(str(self._process.connection_file))
        kc.start_channels()
        self.client = kc
        self._wait_ready()

    def reconnect(self) -> None:
        """New client channels to the same kernel (state kept)."""
        with contextlib.suppress(Exception):
            self.client.stop_channels()
        self.connect()

    def stop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
            self.client = None

    def _wait_ready(self) -> None:
        proc = self._process
        deadline = time.monotonic() + self._startup_timeout
        kc = self.client
        while time.monotonic() < deadline:
            if not proc.alive():
                raise SandboxError(
                    f"the sandbox kernel exited during startup (status {proc.exit_status()}): "
                    f"{proc.stderr_tail()}"
                )
            msg_id = kc.kernel_info()
            t_end = time.monotonic() + 1.0
            while time.monotonic() < t_end:
                try:
                    msg = kc.get_shell_msg(timeout=0.2)
                except queue.Empty:
                    if not proc.alive():
                        break
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    # as jupyter_client does: ready only once IOPub delivers too (the kernel_info
                    # request's status messages); a subscription still joining would lose the
                    # next cell's output
                    if self._iopub_connected(0.5):
                        self._drain_iopub(0.2)
                        return
                    break
        self.stop()
        proc.stop()
        raise SandboxError(
            f"the sandbox kernel did not answer within {self._startup_timeout:g} s: {proc.stderr_tail()}"
        )

    def _iopub_connected(self, wait: float) -> bool:
        try:
            self.client.get_iopub_msg(timeout=wait)
        except queue.Empty:
            return False
        return True

    def _drain_iopub(self, wait: float) -> None:
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                break

    def silent(self, code: str, timeout: float = 3.0) -> bool:
        """Run housekeeping code without output or history; True when it finished in time."""
        msg_id = self.client.execute(code, silent=True, store_history=False, allow_stdin=False)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                r = self.client.get_shell_msg(timeout=0.1)
            except queue.Empty:
                if not self._process.alive():
                    return False
                continue
            if r["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    def run_cell(
        self,
        code: str,
        timeout: float,
        limits: Limits,
        res: CellResult,
        *,
        save_png: Callable[[str, CellResult], None],
        relaunch: Callable[[], None],
    ) -> None:
        """Run ``code`` and collect its output into ``res``.

        Past ``timeout`` the cell is interrupted; if it does not stop within
        ``limits.interrupt_grace`` s, or the kernel dies, ``relaunch`` starts a fresh kernel.
        Displayed PNGs go to ``save_png``. A cell that was answered but whose output never came
        reconnects the channels (or, when that fails, relaunches the kernel).
        """
        proc = self._process
        kc = self.client
        msg_id = kc.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        out = _CellOutput(limits.max_output_bytes, lambda b64: save_png(b64, res))
        deadline = time.monotonic() + timeout
        interrupted_at: float | None = None
        why: str | None = None
        idle = replied = seen = False
        replied_at = 0.0
        while True:
            now = time.monotonic()
            if not proc.alive():
                reason = proc.death_reason()
                relaunch()
                res.restarted = True
                res.error = f"KernelDied: the Python kernel died while running this cell ({reason})."
                break
            if interrupted_at is None and now > deadline:
                why = "timeout"
                interrupted_at = proc.interrupt()
            if interrupted_at is not None and now > interrupted_at + limits.interrupt_grace:
                relaunch()
                res.restarted = True
                why = why or "timeout"
                break
            if idle or (replied and now > replied_at + _IOPUB_GRACE_S):
                break
            try:
                msg = kc.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                msg = None
            if not replied:
                with contextlib.suppress(queue.Empty):
                    while True:
                        r = kc.get_shell_msg(timeout=0)
                        if r["parent_header"].get("msg_id") == msg_id:
                            replied, replied_at = True, time.monotonic()
                            res.execution_count = r["content"].get("execution_count")
                            break
            if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen = True
            mtype, content = msg["msg_type"], msg["content"]
            if mtype == "status" and content.get("execution_state") == "idle":
                idle = True
                continue
            if mtype == "execute_input":
                res.execution_count = content.get("execution_count")
                continue
            if out.add(mtype, content) and interrupted_at is None:
                res.truncated = True
                why = "output"
                interrupted_at = proc.interrupt()
        if replied and not seen and not res.restarted and proc.alive():
            # the shell answered but IOPub carried nothing for this cell: the output channel is
            # lost (a subscription that never joined); reconnect so the next cell is heard
            try:
                self.reconnect()
                res.notes.append("[the cell ran but its output was lost; the output channel was reconnected]")
            except SandboxError:  # the kernel stopped answering: start a fresh one
                relaunch()
                res.restarted = True
                res.notes.append("[the cell ran but its output was lost; the kernel was restarted]")
        _finish(res, out, why, timeout, limits)


@dataclass
class _CellOutput:
    """What a cell's IOPub messages carried, kept up to ``max_bytes``."""

    max_bytes: int
    save_png: Callable[[str], None]
    parts: list[str] = field(default_factory=list)
    size: int = 0
    error: dict[str, Any] | None = None

    def add(self, mtype: str, content: dict[str, Any]) -> bool:
        """Keep one message; True when this one took the output past the cap."""
        if mtype == "error":
            self.error = content
            return False
        if self.size > self.max_bytes:
            return False  # past the cap: drain without keeping anything
        if mtype == "stream":
            text = content.get("text", "")
            self.size += len(text)
            self.parts.append(text)
        elif mtype in ("execute_result", "display_data"):
            data = content.get("data", {})
            if "image/png" in data:
                self.size += len(data["image/png"])
                self.save_png(data["image/png"])
            elif "text/plain" in data:
                text = data["text/plain"]
                self.size += len(text)
                self.parts.append(text if text.endswith("\n") else text + "\n")
        elif mtype == "clear_output":
            self.parts = []
        return self.size > self.max_bytes


def _finish(res: CellResult, out: _CellOutput, why: str | None, timeout: float, limits: Limits) -> None:
    """Set ``res.text`` and ``res.error`` from the collected output and why the cell stopped."""
    text = strip_ansi("".join(out.parts))
    if len(text) > limits.max_output_chars:
        res.truncated = True
        text = truncate_middle(text, limits.max_output_chars)
    if why == "output":
        text += (
            f"\n...[output exceeded {limits.max_output_bytes} bytes: the rest was discarded and the cell "
            "was stopped]"
        )
    res.text = text
    error = out.error
    if why == "timeout":
        res.timed_out = True
        msg = f"TimeoutError: the cell ran longer than {timeout:g} s and was stopped."
        if res.restarted:
            msg += " It did not respond to the interrupt, so the kernel was restarted."
        elif error is not None:
            msg += "\n" + trim_traceback(error.get("traceback") or [], max_lines=6)
        res.error = msg
    elif error is not None and why != "output" and res.error is None:
        tb = trim_traceback(error.get("traceback") or [])
        res.error = tb or f"{error.get('ename')}: {error.get('evalue')}"
