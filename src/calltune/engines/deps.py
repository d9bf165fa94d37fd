"""Optional dependencies of the engines, imported on first use with an install hint."""

from __future__ import annotations

import importlib
from typing import Any

from .base import EngineError


def require(module: str, needed_by: str, extra: str, package: str | None = None) -> Any:
    """Import ``module`` or raise :class:`EngineError` saying which calltune extra installs it.

    ``needed_by`` names what needs it ("the remote engine"); ``package`` is the name to
    install when it differs from the module's (``llama-cpp-python`` for ``llama_cpp``)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:  # pragma: no cover - depends on the install
        raise EngineError(
            f"{needed_by} needs {package or module}: pip install 'calltune[{extra}]' (import failed: {e})"
        ) from e
