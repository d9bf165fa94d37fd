"""The tool library that ships with calltune: tools grouped by domain, for data generation.

Each module in :mod:`calltune.datagen.library.domains` is one domain. It defines

- ``DOMAIN``: the domain's name (``"finance"``, ``"units"``, ...);
- ``TOOLS``: executable :class:`calltune.tools.Tool` objects (``@tool`` functions), whose
  calls are verified by running them;
- ``SPECS`` (optional): OpenAI tool dicts without an implementation; their results are
  simulated by the teacher (ToolACE-style) and marked ``simulated``.

:func:`load_library` discovers every domain module, so adding a domain is adding a file.
No tool may share a normalised name with a BFCL function (a test checks it).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache

from ...errors import CalltuneError
from ...tools import Tool


class LibraryError(CalltuneError, ValueError):
    """A domain module that does not follow the library's conventions."""


@dataclass(frozen=True)
class LibraryTool:
    """One tool of the library: the Tool, its domain, and whether its results are simulated."""

    tool: Tool
    domain: str
    simulated: bool = False

    @property
    def name(self) -> str:
        return self.tool.name

    @property
    def lang(self) -> str:
        """``"zh"`` when the tool's name or description is Chinese, else ``"en"``."""
        text = self.tool.name + self.tool.description
        return "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"


def _domain_tools(module_name: str) -> list[LibraryTool]:
    mod = importlib.import_module(module_name)
    domain = getattr(mod, "DOMAIN", None)
    if not isinstance(domain, str) or not domain:
        raise LibraryError(f"{module_name}: DOMAIN must be a non-empty string")
    out = []
    for t in getattr(mod, "TOOLS", []):
        if not isinstance(t, Tool) or t.fn is None:
            raise LibraryError(f"{module_name}: TOOLS must hold executable Tools, got {t!r}")
        out.append(LibraryTool(t, domain, simulated=False))
    for spec in getattr(mod, "SPECS", []):
        out.append(LibraryTool(Tool.from_spec(spec), domain, simulated=True))
    return out


@lru_cache(maxsize=1)
def _load() -> tuple[LibraryTool, ...]:
    from . import domains

    tools: list[LibraryTool] = []
    seen: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(domains.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        for lt in _domain_tools(f"{domains.__name__}.{info.name}"):
            if lt.name in seen:
                raise LibraryError(f"tool {lt.name!r} is defined in both {seen[lt.name]} and {info.name}")
            seen[lt.name] = info.name
            tools.append(lt)
    return tuple(tools)


def load_library(domains: list[str] | None = None) -> list[LibraryTool]:
    """Every library tool (or those of the named ``domains``), in a stable order."""
    tools = list(_load())
    if domains is None:
        return tools
    known = {t.domain for t in tools}
    unknown = sorted(set(domains) - known)
    if unknown:
        raise LibraryError(f"unknown domain(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [t for t in tools if t.domain in domains]


__all__ = ["LibraryError", "LibraryTool", "load_library"]
