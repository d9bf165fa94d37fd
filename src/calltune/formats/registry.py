"""The registry of chat formats: a format class registers itself by name with
:func:`register_format`; :func:`get_format`, :func:`list_formats` and :func:`detect_format`
read only the registry.

::

    @register_format("myformat", aliases=("my-format",), detect=lambda template, model_id: ...)
    class MyFormat(ChatFormat): ...

Importing :mod:`calltune.formats` imports (and so registers) the built-in formats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .base import ChatFormat
from .common import FormatError

#: ``detect(chat_template, model_id) -> bool``. :func:`detect_format` calls it twice: first
#: with the template and an empty model id, then (when no format claimed the template) with
#: an empty template and the lower-cased model id.
Detector = Callable[[str, str], bool]

#: the format of a model that no detector claims (most instruct models speak ChatML/Hermes)
DEFAULT_FORMAT = "hermes"

F = TypeVar("F", bound=type[ChatFormat])


@dataclass(frozen=True)
class FormatEntry:
    name: str
    cls: type[ChatFormat]
    aliases: tuple[str, ...] = ()
    detect: Detector | None = None
    #: detectors run from the highest priority down (registration order among equals)
    priority: int = 0


_ENTRIES: dict[str, FormatEntry] = {}
_KEYS: dict[str, str] = {}  # a lower-cased name or alias -> the format's name


def _key(name: str) -> str:
    return str(name).strip().lower()


def register_format(
    name: str,
    aliases: Sequence[str] = (),
    detect: Detector | None = None,
    priority: int = 0,
    replace: bool = False,
) -> Callable[[F], F]:
    """Class decorator: register a :class:`ChatFormat` subclass as ``name`` (its ``name``
    attribute is set to it). ``aliases`` are other names :func:`get_format` accepts;
    ``detect`` lets :func:`detect_format` pick it (see :data:`Detector`), more specific
    detectors getting a higher ``priority``. A name or alias already taken raises
    :class:`FormatError`; ``replace`` first drops the format registered as ``name``."""
    key = _key(name)
    keys = [key, *(_key(a) for a in aliases)]

    def decorator(cls: F) -> F:
        if not (isinstance(cls, type) and issubclass(cls, ChatFormat)):
            raise FormatError(f"register_format({name!r}) needs a ChatFormat subclass, got {cls!r}")
        if replace:
            _unregister(key)
        for k in keys:
            if k in _KEYS:
                raise FormatError(f"chat format name {k!r} is already registered (for {_KEYS[k]!r})")
        _KEYS.update(dict.fromkeys(keys, key))
        cls.name = key
        _ENTRIES[key] = FormatEntry(key, cls, tuple(keys[1:]), detect, priority)
        return cls

    return decorator


def _unregister(key: str) -> None:
    _ENTRIES.pop(key, None)
    for k in [k for k, v in _KEYS.items() if v == key]:
        del _KEYS[k]


def list_formats() -> list[str]:
    """The registered format names, in registration order (the names :func:`get_format` takes,
    besides the aliases)."""
    return list(_ENTRIES)


def format_entry(name: str) -> FormatEntry:
    """The registry entry of a format name or alias; raises :class:`FormatError`."""
    key = _KEYS.get(_key(name))
    if key is None:
        raise FormatError(f"unknown chat format {name!r}; choose one of {', '.join(_ENTRIES)}")
    return _ENTRIES[key]


def get_format(name: str | ChatFormat) -> ChatFormat:
    """A new instance of the format called ``name`` (case-insensitive; aliases accepted). A
    ChatFormat instance is returned unchanged. Unknown names raise :class:`FormatError` (a
    ValueError)."""
    if isinstance(name, ChatFormat):
        return name
    return format_entry(name).cls()


def detect_format(chat_template: str | None, model_id: str = "") -> str:
    """Pick a format name from a model's chat template (preferred) or its id.

    The registered detectors are asked about the template first, then about the model id,
    from the highest priority down; :data:`DEFAULT_FORMAT` when none claims either. (The
    built-ins: GLM-4 templates start with ``[gMASK]<sop>``; ChatGLM3 uses ``<|observation|>``
    without it; ``<tool_call>`` and ``<|im_start|>`` templates are ``hermes``; ids naming
    ``chatglm3`` / ``glm-4`` pick those.)
    """
    entries = sorted((e for e in _ENTRIES.values() if e.detect), key=lambda e: -e.priority)
    template, mid = chat_template or "", (model_id or "").lower()
    for args in ((template, ""), ("", mid)):
        if any(args):
            for e in entries:
                if e.detect and e.detect(*args):
                    return e.name
    return DEFAULT_FORMAT
