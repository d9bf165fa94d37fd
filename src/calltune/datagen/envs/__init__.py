"""Stateful environments for multi-step and multi-turn trajectories.

An :class:`Environment` makes fresh, isolated instances from a seed. An instance exposes
its tools (bound to its own state), a description of its starting state for the teacher
that writes requests, and a JSON snapshot of its state. State checks compare snapshots:
a trajectory passes when the state the agent leaves equals the state the request's
intended calls leave on a second fresh instance from the same seed (BFCL-style replay),
and code-written tasks (:class:`EnvTask`) carry their own check as well.

Environments (``get_environment(name)``; each module's docstring has the details):

- ``files`` (:mod:`.files`): an in-memory file system (notes, CSV data, logs, configs, a
  Chinese-named folder); list, read, write, append, make folders, move, copy, delete,
  search contents, file info. Paths never leave the root; no real disk is touched.
- ``sqlite`` (:mod:`.sqlite`): an in-memory SQLite company database (departments,
  employees, projects, sales); list tables, describe a table, run one SQL statement
  (SELECT or INSERT/UPDATE/DELETE). An authorizer refuses ATTACH, PRAGMA writes,
  extensions and file access.
- ``shop`` (:mod:`.shop`): an online shop's API (customers, products with stock, orders,
  refunds) with business rules (stock, cancel only before shipping, refund only after
  delivery, refunds capped at what was paid).

Every instance's :meth:`EnvInstance.toolbox` is sequential (its tools share state) and
its :meth:`EnvInstance.state` is JSON-able with a deterministic order. A tool that
refuses a call raises :class:`.base.EnvError`, which the toolbox reports as an error
observation. :meth:`Environment.tasks` draws its values from the seeded start state;
each :class:`EnvTask` names its ``template`` and the ``params`` it drew (added fields
with defaults, so older callers are unaffected).
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
    category: str = "sequential"  # single | sequential | parallel | multi_turn
    followups: list[str] = field(default_factory=list)  # later user turns (multi-turn tasks)
    lang: str = "en"
    template: str = ""  # the code template it came from ("backup_copy", ...); "" when not from code
    params: dict[str, Any] = field(default_factory=dict)  # the values it drew (names, ids, amounts)


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
ENVIRONMENTS: dict[str, str] = {
    "files": ".files:FilesEnvironment",
    "sqlite": ".sqlite:SqliteEnvironment",
    "shop": ".shop:ShopEnvironment",
}


def get_environment(name: str) -> Environment:
    """The environment registered as ``name`` (``files``, ``sqlite``, ...)."""
    import importlib

    from ...errors import CalltuneError

    if name not in ENVIRONMENTS:
        known = ", ".join(sorted(ENVIRONMENTS)) or "none"
        raise CalltuneError(f"unknown environment {name!r}; known: {known}")
    module, _, attr = ENVIRONMENTS[name].partition(":")
    return getattr(importlib.import_module(module, __name__), attr)()
