"""Read tool and parameter descriptions out of docstrings.

Supported layouts: Google style (``Args:`` / ``Arguments:`` / ``Parameters:`` sections
with ``name (type): description`` entries, continuation lines indented deeper) and
Sphinx style (``:param name: description``). The first paragraph of the docstring is
the tool's description.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_ARGS_HEADERS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "kwargs"}
_SECTION_RE = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*$")
_ENTRY_RE = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_RE = re.compile(r"^:param\s+(?:[^:\s]+\s+)?(\w+)\s*:\s*(.*)$")
_SPHINX_FIELD_RE = re.compile(r"^:\w+")


@dataclass
class Docstring:
    """A parsed docstring: ``description`` (first paragraph) and ``params`` (name → text)."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def parse_docstring(doc: str | None) -> Docstring:
    """Parse ``doc`` (raw ``__doc__``; ``None`` gives an empty result)."""
    if not doc or not doc.strip():
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()

    # first paragraph = description, unless the docstring starts with a section header
    first: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            break
        m = _SECTION_RE.match(stripped)
        if (m and m.group(1).lower() in _ARGS_HEADERS) or _SPHINX_FIELD_RE.match(stripped):
            break
        first.append(stripped)
    result = Docstring(description=" ".join(first))

    params: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        header = _SECTION_RE.match(stripped)
        if header and _indent(line) == 0 and header.group(1).lower() in _ARGS_HEADERS:
            i = _parse_google_args(lines, i + 1, params)
            continue
        sphinx = _SPHINX_RE.match(stripped)
        if sphinx:
            name, text = sphinx.group(1), sphinx.group(2).strip()
            base = _indent(line)
            parts = [text] if text else []
            i += 1
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) > base:
                parts.append(lines[i].strip())
                i += 1
            params[name] = parts
            continue
        i += 1
    result.params = {k: " ".join(v).strip() for k, v in params.items() if " ".join(v).strip()}
    return result


def _parse_google_args(lines: list[str], i: int, params: dict[str, list[str]]) -> int:
    """Read the entries of a Google ``Args:`` section starting at ``lines[i]``; return the next index."""
    entry_indent: int | None = None
    current: str | None = None
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        ind = _indent(line)
        if ind == 0:  # the section ended (next section header or prose)
            break
        if entry_indent is None:
            entry_indent = ind
        if ind <= entry_indent:
            m = _ENTRY_RE.match(stripped)
            if m:
                current = m.group(1)
                params[current] = [m.group(2).strip()] if m.group(2).strip() else []
            else:
                current = None
        elif current is not None:
            params[current].append(stripped)
        i += 1
    return i
