"""When guided decoding is on by default (decided from bench/guided.py; see docs/guided.md).

Default (``guided=None``): ``required`` and ``named:<tool>`` are guided whenever the engine
can constrain; ``auto`` and ``none`` are not (``none`` hides the tools from the prompt
instead; ``auto`` is guided with ``guided=True`` / ``--guided``).
"""

from __future__ import annotations

from typing import Any

#: modes guided by default when the engine can constrain (the measured decision)
DEFAULT_GUIDED_MODES = frozenset({"required", "named"})


def guided_default(mode: str) -> bool:
    """Whether ``mode`` is guided when the user did not say (``guided=None``)."""
    kind = "named" if mode.startswith("named:") else mode
    return kind in DEFAULT_GUIDED_MODES


def resolve_guided(guided: bool | None, mode: str, engine: Any = None) -> bool:
    """Whether to build a constraint: ``guided`` True/False wins; None → the default policy.

    An engine that cannot constrain turns the *default* off quietly, but an explicit
    ``guided=True`` on such an engine raises :class:`~calltune.engines.base.EngineError`.
    """
    can = engine is None or bool(getattr(engine, "supports_constraints", False))
    if guided is True:
        if not can:
            from ..engines.base import EngineError

            raise EngineError(
                f"engine {type(engine).__name__} ({getattr(engine, 'model_id', '?')}) cannot apply guided "
                "decoding; run a local llama.cpp or transformers model, or pass guided=False / --no-guided"
            )
        return True
    if guided is False:
        return False
    return can and guided_default(mode)


def guided_by_default(mode: str, engine: Any = None) -> bool:
    """The default for ``guided=None`` on ``engine``: the mode's default, if the engine can constrain."""
    return resolve_guided(None, mode, engine)


def constraint_for_request(
    fmt: Any,
    tools: list[dict[str, Any]] | None,
    mode: Any,
    *,
    parallel: bool = True,
    guided: bool | None = None,
    engine: Any = None,
) -> Any:
    """The one place a request's tool choice becomes a constraint (or None).

    - ``guided`` True/False/None and the engine decide through :func:`resolve_guided`;
    - with ``guided=None`` in ``auto`` mode, tools marked ``strict: true`` (OpenAI) are still
      constrained when the engine can (the others stay free);
    - ``none`` returns None: callers leave the tools out of the prompt.
    """
    from .constraint import build_constraint, parse_mode

    mode = parse_mode(mode)
    if not tools or mode == "none":
        return None
    if resolve_guided(guided, mode, engine):
        return build_constraint(fmt, tools, mode, parallel)
    can = engine is None or bool(getattr(engine, "supports_constraints", False))
    if guided is None and mode == "auto" and can:
        return build_constraint(fmt, tools, "auto", parallel, strict_only=True)
    return None
