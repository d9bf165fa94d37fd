"""Every exception class calltune defines derives from the one root, CalltuneError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import calltune
from calltune.errors import CalltuneError

#: modules that need optional heavy packages are imported when those are installed
OPTIONAL = ("llama_cpp", "torch", "transformers", "xgrammar", "fastapi", "jupyter_client", "bfcl_eval", "mcp")


def _modules():
    for info in pkgutil.walk_packages(calltune.__path__, "calltune."):
        try:
            yield importlib.import_module(info.name)
        except ImportError as exc:  # an optional dependency missing on this install
            if not any(o in str(exc) for o in OPTIONAL):
                raise


def test_every_calltune_exception_derives_from_the_root() -> None:
    found = []
    for mod in _modules():
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if obj.__module__ != mod.__name__ or not issubclass(obj, BaseException):
                continue
            found.append(obj)
            assert issubclass(obj, CalltuneError), (
                f"{obj.__module__}.{obj.__qualname__} is not a CalltuneError"
            )
    assert len(found) >= 20  # the walk really reached the packages


def test_root_keeps_builtin_bases() -> None:
    from calltune.engines.base import ContextLengthError, EngineError
    from calltune.formats.common import FormatError

    assert issubclass(ContextLengthError, EngineError) and issubclass(EngineError, RuntimeError)
    assert issubclass(FormatError, ValueError) and issubclass(FormatError, CalltuneError)
