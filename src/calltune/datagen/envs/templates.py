"""Code-written task templates: values drawn from an environment's seeded start state.

A template is a function ``build(start, rng, zh) -> Draft | None``: ``start`` is the
start state (``fresh(seed).state()``), ``rng`` draws the values, ``zh`` asks for the
Chinese phrasing. It returns ``None`` when the start state offers nothing to ask about.
A :class:`Draft`'s check reads the final state (a ``state()`` snapshot) and returns the
problems found; :func:`make_tasks` turns drafts into :class:`~.EnvTask` objects whose
``check`` takes the instance.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import EnvTask

#: share of tasks phrased in Chinese (for templates that have a Chinese phrasing)
ZH_SHARE = 0.3

StateCheck = Callable[[Any], list[str]]


@dataclass
class Draft:
    request: str
    check: StateCheck
    params: dict[str, Any]
    followups: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Template:
    name: str
    category: str  # single | sequential | parallel | multi_turn
    build: Callable[[Any, random.Random, bool], Draft | None]
    zh: bool = True


def template(registry: list[Template], category: str, zh: bool = True) -> Callable[..., Any]:
    """Register ``build`` (named ``_t_NAME``) in ``registry`` as template ``NAME``."""

    def wrap(build: Callable[[Any, random.Random, bool], Draft | None]) -> Callable[..., Any]:
        registry.append(Template(build.__name__.removeprefix("_t_"), category, build, zh))
        return build

    return wrap


def say(rng: random.Random, zh: bool, en: list[str], zh_texts: list[str], **values: Any) -> str:
    """One of the phrasings, in the language asked for, filled with ``values``."""
    return rng.choice(zh_texts if zh and zh_texts else en).format(**values)


def problems(*pairs: tuple[bool, str]) -> list[str]:
    """The messages of the ``(ok, message)`` pairs that are not ok."""
    return [msg for ok, msg in pairs if not ok]


def numbers_in(text: str) -> list[float]:
    """The numbers written in ``text`` (``12,345.50`` counts as 12345.5)."""
    return [float(m.replace(",", "")) for m in re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)]


def make_tasks(templates: list[Template], start: Any, seed: int, n: int, env_name: str) -> list[EnvTask]:
    """Up to ``n`` distinct tasks: every template once (in a seeded order) before any repeats.

    The list for ``n`` is a prefix of the list for any larger ``n`` (a task can be named by its index).
    """
    rng = random.Random(f"{env_name}-tasks:{seed}")
    out: list[EnvTask] = []
    seen: set[str] = set()
    for _ in range(max(1, 4 * n // max(1, len(templates)) + 2)):
        order = list(templates)
        rng.shuffle(order)
        for t in order:
            if len(out) >= n:
                return out
            zh = t.zh and rng.random() < ZH_SHARE
            draft = t.build(start, rng, zh)
            if draft is None or draft.request in seen:
                continue
            seen.add(draft.request)
            out.append(_task(t, draft, "zh" if zh else "en"))
    return out


def _task(t: Template, draft: Draft, lang: str) -> EnvTask:
    def check(instance: Any) -> list[str]:
        return draft.check(instance.state())

    return EnvTask(
        request=draft.request,
        check=check,
        category=t.category,
        followups=list(draft.followups),
        lang=lang,
        template=t.name,
        params=dict(draft.params),
    )


__all__ = ["Draft", "Template", "ZH_SHARE", "make_tasks", "numbers_in", "problems", "say", "template"]
