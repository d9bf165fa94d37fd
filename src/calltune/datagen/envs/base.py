"""What the environments share: the error their tools raise and an instance base class.

An instance's tools are its own methods (listed in ``TOOLS``), bound to its state, so two
instances never share anything. :meth:`BaseInstance.toolbox` makes a sequential
:class:`~calltune.tools.Toolbox` of them (the calls of one turn run in the order written,
as they share state) and every call holds the instance's lock (the toolbox runs each
call in a thread of its own).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ...errors import CalltuneError
from ...tools import Tool, Toolbox


class EnvError(CalltuneError, ValueError):
    """A call the environment refuses: a missing file, a path outside the root, a broken business rule.

    The toolbox turns it into the observation ``Error: tool 'NAME' raised EnvError: MESSAGE``.
    """


class BaseInstance:
    """An environment instance whose tools are the methods named in ``TOOLS``."""

    TOOLS: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tools: list[Tool] | None = None

    def _locked(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call

    def tools(self) -> list[Tool]:
        """The instance's tools, bound to its state, in ``TOOLS`` order (made once per instance)."""
        if self._tools is None:
            self._tools = [Tool(self._locked(getattr(self, name)), name=name) for name in self.TOOLS]
        return list(self._tools)

    def toolbox(self) -> Toolbox:
        return Toolbox(self.tools(), timeout=10.0, sequential=True)

    def describe(self) -> str:
        raise NotImplementedError

    def state(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""


__all__ = ["BaseInstance", "EnvError"]
