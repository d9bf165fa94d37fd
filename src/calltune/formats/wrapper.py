"""A chat format that is another format with some of its behaviour changed.

:class:`FormatWrapper` forwards the whole :class:`~calltune.formats.base.ChatFormat`
contract (``name``, ``stop``, ``special_tokens`` and every method) to the wrapped format, so a
subclass states only what it changes::

    class Shouting(FormatWrapper):
        def parse(self, text, tool_names=None):
            return self.base.parse(text.upper(), tool_names)
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

from .base import ChatFormat


class FormatWrapper(ChatFormat):
    """``base`` with nothing changed; subclass it and override what differs. Attributes of the
    wrapped format outside the contract (e.g. Hermes' ``tool_guidance``) are reachable too."""

    def __init__(self, base: ChatFormat) -> None:
        self.base = base

    def __getattr__(self, name: str) -> Any:  # anything else the wrapped format offers
        if name == "base":  # not set yet (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.base, name)


def _forward_method(name: str) -> Callable[..., Any]:
    def forward(self: FormatWrapper, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.base, name)(*args, **kwargs)

    forward.__name__ = name
    forward.__qualname__ = f"FormatWrapper.{name}"
    forward.__doc__ = getattr(ChatFormat, name).__doc__
    return forward


def _forward_attribute(name: str) -> property:
    return property(lambda self: getattr(self.base, name), doc=f"The wrapped format's ``{name}``.")


for _name, _value in list(vars(ChatFormat).items()):
    if not _name.startswith("_"):
        setattr(FormatWrapper, _name, (_forward_method if callable(_value) else _forward_attribute)(_name))
abc.update_abstractmethods(FormatWrapper)
