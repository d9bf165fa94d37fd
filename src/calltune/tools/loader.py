"""Load the tools a user wrote in a Python file (``calltune ... --tools my_tools.py``)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from .errors import ToolLoadError, ToolSchemaError
from .tool import Tool, as_tool


def load_tools_file(path: str | Path) -> list[Tool]:
    """Import ``path`` as a module and return its tools.

    If the module defines ``TOOLS`` (a list of ``@tool`` functions, callables or OpenAI
    tool dicts), that list is the answer, in its order. Otherwise every module-level
    :class:`Tool` (``@tool``-decorated function) is returned in definition order.
    This runs the user's own code (not model output), like ``python path`` would.
    Raises :class:`ToolLoadError` for a missing file, an import failure or no tools.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise ToolLoadError(f"tools file not found: {str(p)!r}")
    resolved = p.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    mod_name = f"calltune_user_tools_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, resolved)
    if spec is None or spec.loader is None:
        raise ToolLoadError(f"cannot import {str(p)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # pydantic / dataclasses look classes up through sys.modules
    folder = str(resolved.parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(mod_name, None)
        raise ToolLoadError(f"importing {str(p)!r} failed: {type(e).__name__}: {e}") from e
    finally:
        if added and folder in sys.path:
            sys.path.remove(folder)
    return _module_tools(module, str(p))


def _module_tools(module: Any, where: str) -> list[Tool]:
    declared = getattr(module, "TOOLS", None)
    if declared is not None:
        if isinstance(declared, dict | str) or not hasattr(declared, "__iter__"):
            raise ToolLoadError(f"{where}: TOOLS must be a list of tools, got {type(declared).__name__}")
        try:
            tools = [as_tool(item) for item in declared]
        except ToolSchemaError as e:
            raise ToolLoadError(f"{where}: bad entry in TOOLS: {e}") from e
    else:
        tools = []
        seen: set[int] = set()
        for value in vars(module).values():
            if isinstance(value, Tool) and id(value) not in seen:
                seen.add(id(value))
                tools.append(value)
    if not tools:
        raise ToolLoadError(
            f"no tools found in {where}: decorate functions with @calltune.tool or define TOOLS = [...]"
        )
    names = [t.name for t in tools]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ToolLoadError(f"{where}: duplicate tool names: {', '.join(dupes)}")
    return tools
