"""Typer options generated from a configuration dataclass (as TRL's ``TrlParser`` does with
``HfArgumentParser``): each field is written once, with its help in ``field(metadata=...)``.

Metadata keys: ``help`` (required), ``flags`` (option names; default ``--field-name``) and
``cli_type`` (the option's type when the field's own type cannot be one, e.g. ``bool | str``).
A field without a default is a required option; a list field is a repeatable option.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import MISSING, Field, field, fields
from typing import Annotated, Any, TypeVar

import typer

T = TypeVar("T")


def alias_metadata(alias: Any) -> dict[str, Any]:
    """Field metadata (``help``, ``flags``) read from a typer option alias
    (``Annotated[T, typer.Option(...)]``, e.g. of :mod:`calltune.cli_options`): a config field
    that is a shared option keeps the option's one declaration."""
    info = next(m for m in getattr(alias, "__metadata__", ()) if isinstance(m, typer.models.OptionInfo))
    flags = tuple(d for d in (info.default, *info.param_decls) if isinstance(d, str) and d.startswith("-"))
    return {"help": info.help, "flags": flags}


def same_field(cls: type[Any], name: str) -> Any:
    """A ``dataclasses.field`` like the field ``name`` of the dataclass ``cls`` (its default and
    metadata), for a configuration that passes that setting through to ``cls``."""
    f = next(f for f in fields(cls) if f.name == name)
    kw: dict[str, Any] = {"metadata": f.metadata}
    if f.default_factory is not MISSING:
        kw["default_factory"] = f.default_factory
    elif f.default is not MISSING:
        kw["default"] = f.default
    return field(**kw)


def option_flags(f: Field[Any]) -> tuple[str, ...]:
    """The option names of a field: its ``flags`` metadata or ``--field-name``."""
    return tuple(f.metadata.get("flags") or (f"--{f.name.replace('_', '-')}",))


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list


def _parameter(f: Field[Any], tp: Any) -> inspect.Parameter:
    help_ = f.metadata.get("help")
    if not help_:
        raise TypeError(f"field {f.name!r} has no help in its metadata")
    tp = f.metadata.get("cli_type", tp)
    if f.default is not MISSING:
        default: Any = f.default
    elif f.default_factory is not MISSING:
        default = None  # the factory runs when the option is not given
        tp = tp | None
    else:
        default = inspect.Parameter.empty  # a required option
    ann = Annotated[tp, typer.Option(*option_flags(f), help=help_)]
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=ann)


def config_options(cls: type[Any]) -> list[inspect.Parameter]:
    """One typer option parameter per field of the dataclass ``cls``, in field order."""
    hints = typing.get_type_hints(cls)
    return [_parameter(f, hints[f.name]) for f in fields(cls)]


def config_from_options(cls: type[T], values: dict[str, Any]) -> T:
    """``cls(**values)`` with unset list options given their field's default."""
    hints = typing.get_type_hints(cls)
    kw: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        v = values[f.name]
        if v is None and f.default_factory is not MISSING:
            v = f.default_factory()
        elif _is_list(hints[f.name]) and v is not None:
            v = list(v)
        kw[f.name] = v
    return cls(**kw)


def config_command(cls: type[T], run: Callable[[T], None]) -> Callable[..., None]:
    """A function typer turns into a command with one option per field of ``cls``; it builds
    the dataclass from the options and calls ``run`` with it (``run``'s docstring is the help)."""

    def command(**values: Any) -> None:
        run(config_from_options(cls, values))

    params = config_options(cls)
    command.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = run.__doc__
    command.__name__ = run.__name__.lstrip("_")
    return command
