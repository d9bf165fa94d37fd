"""Stateful environments for multi-step and multi-turn trajectories.

An :class:`Environment` makes fresh, isolated instances from a seed. An instance exposes
its tools (bound to its own state), a description of its starting state for the teacher
that writes requests, and a JSON snapshot of its state. State checks compare snapshots:
a trajectory passes when the state the agent leaves equals the state the request's
intended calls leave on a second fresh instance from the same seed (BFCL-style replay),
and code-written tasks (:class:`EnvTask`) carry their own check as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ...tools import Toolbox


@dataclass
class EnvTask:
    """A request written in code, with a check of the final state (problems; empty = pass)."""

    request: str
    check: Callable[[EnvInstance], list[str]]
    category: str = "sequential"  # sequential | multi_turn | single | ...
    followups: list[str] = field(default_factory=list)  # later user turns (multi-turn tasks)
    lang: str = "en"


class EnvInstance(Protocol):
    def toolbox(self) -> Toolbox: ...
    def describe(self) -> str: ...
    def state(self) -> Any: ...
    def close(self) -> None: ...


class Environment(Protocol):
    name: str

    def fresh(self, seed: int) -> EnvInstance: ...
    def tasks(self, seed: int, n: int) -> list[EnvTask]:
        """Up to ``n`` code-written tasks valid on ``fresh(seed)``."""
        ...


# name -> "module:attribute" of a zero-argument factory; modules are imported on first use.
ENVIRONMENTS: dict[str, str] = {}


def get_environment(name: str) -> Environment:
    """The environment registered as ``name`` (``files``, ``sqlite``, ...)."""
    import importlib

    from ...errors import CalltuneError

    if name not in ENVIRONMENTS:
        known = ", ".join(sorted(ENVIRONMENTS)) or "none"
        raise CalltuneError(f"unknown environment {name!r}; known: {known}")
    module, _, attr = ENVIRONMENTS[name].partition(":")
    return getattr(importlib.import_module(module, __name__), attr)()
