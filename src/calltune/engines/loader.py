"""Pick and load an engine for a model reference.

==========================================  ====================================
``model``                                   engine
==========================================  ====================================
``None`` / ``"default"``                    llama.cpp on the embedded default GGUF
``"gemma-270m"``                            llama.cpp on the Gemma 3 270M GGUF
``path/to/model.gguf``                      llama.cpp (``engine="transformers"``:
                                            transformers with ``gguf_file=``)
a directory (HF model, calltune output)     transformers (a directory holding only
                                            one .gguf file: llama.cpp)
a calltune run exported to GGUF             llama.cpp on its export, with the run's
                                            format (``engine="transformers"``: the run)
``org/name`` (hub id)                       transformers
``openai:URL``, ``http(s)://...``           OpenAI-compatible remote
a name, with ``engine="openai"``            that model on ``$OPENAI_BASE_URL``
a JSON script, with ``engine="scripted"``   replays its outputs (no model; tests, demos)
==========================================  ====================================

The engines come from a registry: :func:`register_engine` adds one (a name, its aliases,
a factory, and optionally the references it claims, as the remote engine claims URLs).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .base import Engine, EngineError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass
class EnginePlan:
    """What :func:`load_engine` will do: which engine, on what, with which extra arguments."""

    engine: str  # a registered engine name: "llamacpp" | "transformers" | "openai" | ...
    target: str  # a file path, a directory, a hub id, or a base URL
    kwargs: dict[str, Any]


#: ``factory(target, n_ctx=..., **kwargs)`` → the engine
EngineFactory = Callable[..., Engine]


#: what an engine asked for by name (``engine=...``) does with a reference no engine claimed
ByName = Literal["files", "model", "target"]


@dataclass(frozen=True)
class EngineEntry:
    """A registered engine.

    ``matches(ref)`` claims a model reference for this engine before anything else is
    tried (it returns the target, e.g. the URL, or None); ``what`` says what such a
    reference is, for errors. ``by_name``, when the engine is asked for by name:
    ``"files"`` — the local-file rules of :func:`plan_engine` resolve the reference (GGUF
    files, directories, hub ids, built-in names; they pick llama.cpp or transformers); ``"model"`` — it is the ``model=``
    argument (a served model's name); ``"target"`` — it is the target as given."""

    name: str
    aliases: tuple[str, ...]
    factory: EngineFactory
    matches: Callable[[str], str | None] | None = None
    what: str = ""
    by_name: ByName = "target"


_ENGINES: dict[str, EngineEntry] = {}
_ALIASES: dict[str, str] = {}


def register_engine(
    name: str,
    aliases: tuple[str, ...] | list[str] = (),
    *,
    factory: EngineFactory,
    matches: Callable[[str], str | None] | None = None,
    what: str = "",
    by_name: ByName = "target",
) -> EngineEntry:
    """Make an engine loadable by :func:`load_engine` under ``name`` and its ``aliases``
    (case-insensitive); see :class:`EngineEntry` for the arguments. ``factory(target,
    n_ctx=..., **kwargs)`` builds it. Registering a name again replaces that engine."""
    entry = EngineEntry(name, tuple(aliases), factory, matches, what, by_name)
    _ENGINES[name] = entry
    for alias in (name, *entry.aliases):
        _ALIASES[alias.lower()] = name
    return entry


def engine_names() -> list[str]:
    """The registered engines, in registration order."""
    return list(_ENGINES)


def _engine_name(engine: str | None) -> str | None:
    if engine is None:
        return None
    name = _ALIASES.get(engine.lower())
    if name is None:
        raise EngineError(f"unknown engine {engine!r}; use one of: {', '.join(_ENGINES)}")
    return name


def _claim(ref: str, want: str | None) -> EnginePlan | None:
    """The plan of the first registered engine that claims ``ref`` outright (a URL, ...)."""
    for entry in _ENGINES.values():
        target = entry.matches(ref) if entry.matches is not None else None
        if target is None:
            continue
        if want not in (None, entry.name):
            what = entry.what or f"a {entry.name} reference"
            raise EngineError(f"{ref!r} is {what}; only the {entry.name} engine can use it")
        return EnginePlan(entry.name, target, {})
    return None


def plan_engine(model: str | os.PathLike[str] | None = None, engine: str | None = None) -> EnginePlan:
    """Decide which engine loads ``model`` without loading anything (see the module table).

    Built-in names are resolved (and the default model assembled on first use) here."""
    want = _engine_name(engine)
    ref = os.fspath(model) if model is not None else None

    claimed = _claim(ref, want) if ref is not None else None
    if claimed is not None:
        return claimed
    by_name = _ENGINES[want].by_name if want is not None else "files"
    if by_name == "model":  # a served model's name (openai: on $OPENAI_BASE_URL)
        return EnginePlan(want, "", {"model": ref} if ref else {})  # type: ignore[arg-type]
    if by_name == "target":
        return EnginePlan(want, ref or "", {})  # type: ignore[arg-type]

    from .. import models

    if ref is None or models.is_builtin_name(ref):
        path = models.resolve_model(ref)
        return _plan_file(path, want)

    path = Path(ref).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise EngineError(f"GGUF file not found: {path}")
        return _plan_file(path, want)
    if path.is_dir():
        run = _plan_run(path, want)
        if run is not None:
            return run
        ggufs = sorted(path.glob("*.gguf"))
        has_hf = (path / "config.json").is_file() or (path / "calltune.json").is_file()
        if not has_hf and len(ggufs) == 1:
            return _plan_file(ggufs[0], want)
        if want == "llamacpp":
            raise EngineError(
                f"{path} is a directory; the llama.cpp engine needs a .gguf file "
                f"({len(ggufs)} .gguf files found there)"
            )
        return EnginePlan("transformers", str(path), {})
    if path.exists():
        raise EngineError(f"{path} is neither a .gguf file nor a model directory")
    if _HUB_ID.match(ref) and not ref.startswith((".", "/", "~")):
        if want == "llamacpp":
            raise EngineError(f"{ref!r} looks like a hub id; the llama.cpp engine needs a local .gguf file")
        return EnginePlan("transformers", ref, {})
    raise EngineError(
        f"model {ref!r} not found: give a .gguf file, a model directory, a hub id (org/name), "
        "an openai:URL, or one of the built-in names (default, gemma-270m)"
    )


def _plan_run(path: Path, want: str | None) -> EnginePlan | None:
    """A training run exported to GGUF (``calltune export gguf``): llama.cpp on that file with
    the run's chat format, unless transformers is asked for (None: the run loads as today)."""
    from .hf import CALLTUNE_CONFIG, read_calltune_config

    meta = read_calltune_config(path)
    if meta is None or want == "transformers":
        return None
    export = meta.get("export") or {}
    gguf = export.get("gguf") if isinstance(export, dict) else None
    if not gguf:
        if want == "llamacpp":
            raise EngineError(
                f"{path} is a training run without a GGUF export: run `calltune export gguf {path}` "
                "first, or load it with --engine hf"
            )
        return None
    file = path / gguf  # an absolute path stays as it is
    if not file.is_file():
        raise EngineError(
            f"{path / CALLTUNE_CONFIG} names the GGUF export {gguf}, which is missing: run "
            f"`calltune export gguf {path}` again, or load the run with --engine hf"
        )
    kwargs: dict[str, Any] = {"model_id": path.name}
    if meta.get("format"):
        kwargs["default_format"] = meta["format"]
    return EnginePlan("llamacpp", str(file), kwargs)


def _plan_file(path: Path, want: str | None) -> EnginePlan:
    if want == "transformers":
        return EnginePlan("transformers", str(path.parent), {"gguf_file": path.name})
    return EnginePlan("llamacpp", str(path), {})


def load_engine(
    model: str | os.PathLike[str] | None = None,
    engine: str | None = None,
    n_ctx: int | None = None,
    **kwargs: Any,
) -> Engine:
    """Load an engine for ``model`` (see the module table). ``n_ctx`` sets the context
    window (llama.cpp) or caps it (transformers, remote); other keyword arguments go to
    the engine class (:class:`~calltune.engines.llamacpp.LlamaCppEngine`,
    :class:`~calltune.engines.hf.TransformersEngine`,
    :class:`~calltune.engines.openai_remote.OpenAIRemoteEngine`)."""
    plan = plan_engine(model, engine)
    return _ENGINES[plan.engine].factory(plan.target, n_ctx=n_ctx, **{**plan.kwargs, **kwargs})


# ---------------------------------------------------------------------- the built-in engines
# (the engine classes are imported when used: each needs its own optional dependencies)


def _llamacpp(target: str, parallel: int = 1, **kw: Any) -> Engine:
    if parallel > 1:  # several sequences decoded together
        from . import llamacpp_batch

        return llamacpp_batch.BatchedLlamaCppEngine(target, parallel=parallel, **kw)
    from . import llamacpp

    return llamacpp.LlamaCppEngine(target, **kw)


def _transformers(target: str, **kw: Any) -> Engine:
    from . import hf

    return hf.TransformersEngine(target, **kw)


def _openai(target: str, **kw: Any) -> Engine:
    from . import openai_remote

    return openai_remote.OpenAIRemoteEngine(target or None, **kw)


def _scripted(target: str, n_ctx: int | None = None) -> Engine:
    from .scripted import scripted_from_file

    return scripted_from_file(target, n_ctx=n_ctx)


def _server_url(ref: str) -> str | None:
    if ref.startswith("openai:"):
        return ref[len("openai:") :]
    return ref if ref.startswith(("http://", "https://")) else None


register_engine("llamacpp", ("llama.cpp", "llama_cpp", "gguf"), factory=_llamacpp, by_name="files")
register_engine("transformers", ("hf",), factory=_transformers, by_name="files")
register_engine(
    "openai", ("remote",), factory=_openai, matches=_server_url, what="a server URL", by_name="model"
)
register_engine("scripted", factory=_scripted, what="a JSON script of outputs")
