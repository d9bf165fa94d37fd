"""The result of one code cell, and the text the model sees for it."""

from __future__ import annotations

import base64
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

RESTART_NOTE = (
    "[the Python kernel was restarted: variables, imports and functions from earlier cells are lost]"
)

#: how an observation names a file the code wrote and its copy on the host (``Sandbox(out_dir=)``)
SAVED_LINE = "[{kind} saved: {name} · copy for the user: {copy}]"
_SAVED = re.compile(r"^\[(?:image|file) saved: (.+?) · copy for the user: (.+)\]$")


def split_saved(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` without its :data:`SAVED_LINE` lines, and those lines' ``(name as the code sees
    it, host copy)`` pairs (what ``calltune run`` / ``chat`` print on their own lines)."""
    kept, saved = [], []
    for line in text.splitlines():
        m = _SAVED.match(line)
        if m:
            saved.append((m.group(1), m.group(2)))
        else:
            kept.append(line)
    return "\n".join(kept), saved


_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


def _read_regular_file(path: Path, limit: int = 20 * 1024 * 1024) -> bytes | None:
    """Read a regular file without following a symlink (the sandbox owns the directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return f.read(limit)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def truncate_middle(text: str, limit: int) -> str:
    """Keep the head and the tail of ``text`` within ``limit`` characters, with a marker between."""
    if limit <= 0 or len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n...[output truncated: {cut} characters omitted]...\n{text[len(text) - tail :]}"


def trim_traceback(lines: list[str], max_lines: int = 30, max_chars: int = 3000) -> str:
    """A plain-text traceback: ANSI colours removed, at most the last ``max_lines`` lines."""
    text = strip_ansi("\n".join(lines))
    all_lines = [ln for ln in text.splitlines() if ln.strip() and not set(ln.strip()) <= {"-"}]
    if len(all_lines) > max_lines:
        all_lines = ["...[traceback trimmed]..."] + all_lines[-max_lines:]
    out = "\n".join(all_lines)
    if len(out) > max_chars:
        out = "...[traceback trimmed]...\n" + out[-max_chars:]
    return out


@dataclass
class CellResult:
    """What running one cell produced.

    ``text``: stdout, stderr and the last expression's value in order of arrival (ANSI codes
    removed, truncated with a marker). ``error``: ``"Name: message"`` plus a trimmed traceback,
    or a sandbox message (timeout, output cap, kernel death), else None. ``images``: host paths of
    the PNG files the cell produced (inline matplotlib figures and other displayed images, plus new
    image files the code wrote into the working directory). ``image_names``: the same files as the
    code sees them (e.g. ``/mnt/data/figure_3_1.png``). ``copies``: files the cell created or
    changed (images included), as the code sees them → their copy on the host (only with
    ``Sandbox(out_dir=...)``). ``restarted``: the kernel was restarted during or before this
    cell, so earlier state is lost.
    """

    text: str = ""
    error: str | None = None
    images: list[str] = field(default_factory=list)
    image_names: list[str] = field(default_factory=list)
    copies: dict[str, str] = field(default_factory=dict)
    restarted: bool = False
    timed_out: bool = False
    truncated: bool = False
    execution_count: int | None = None
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_observation(self, max_chars: int | None = None) -> str:
        """The observation text for the model (plain; the chat format adds any fences)."""
        parts: list[str] = []
        if self.restarted:
            parts.append(RESTART_NOTE)
        if self.text.strip():
            parts.append(self.text.rstrip("\n"))
        if self.error:
            parts.append(self.error)
        for name in self.image_names:
            copy = self.copies.get(name)
            parts.append(
                SAVED_LINE.format(kind="image", name=name, copy=copy) if copy else f"[image saved: {name}]"
            )
        for name, copy in self.copies.items():
            if name not in self.image_names:
                parts.append(SAVED_LINE.format(kind="file", name=name, copy=copy))
        parts.extend(self.notes)
        if not parts:
            parts.append("[no output]")
        out = "\n".join(parts)
        return truncate_middle(out, max_chars) if max_chars else out

    def images_base64(self) -> list[dict[str, str]]:
        """Images as ``{"name", "mime", "data"}`` (base64) for the server and the playground."""
        out = []
        for path, name in zip(self.images, self.image_names, strict=False):
            data = _read_regular_file(Path(path))
            if data is not None:
                mime = _MIME.get(Path(path).suffix.lower(), "application/octet-stream")
                out.append({"name": name, "mime": mime, "data": base64.b64encode(data).decode("ascii")})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "error": self.error,
            "images": list(self.images),
            "image_names": list(self.image_names),
            "copies": dict(self.copies),
            "restarted": self.restarted,
            "timed_out": self.timed_out,
            "truncated": self.truncated,
            "execution_count": self.execution_count,
            "elapsed_s": round(self.elapsed_s, 3),
            "notes": list(self.notes),
        }
