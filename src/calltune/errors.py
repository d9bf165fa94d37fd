"""The one root of calltune's exceptions.

Every exception calltune raises on purpose derives from :class:`CalltuneError` (as every
error of openai-python derives from ``openai.OpenAIError``), so a caller can catch them all
in one ``except`` clause. Each class keeps the builtin base it had before (``ValueError``
for bad input, ``RuntimeError`` for failures, ...), so existing ``except ValueError``
clauses keep working.
"""

from __future__ import annotations


class CalltuneError(Exception):
    """Base class of every calltune exception."""
