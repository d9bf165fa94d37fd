"""The tiny models of calltune.testing for the training tests: where the Gemma 3 GGUF they
are built from is not installed, the test is skipped."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from calltune.testing import models as _kit

F = TypeVar("F", bound=Callable[..., Any])


def _skip_if_missing(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _kit.TestAssetMissing as exc:
            pytest.skip(str(exc))

    return wrapper  # type: ignore[return-value]


fresh_tokenizer = _skip_if_missing(_kit.fresh_tokenizer)
glm_tokenizer = _skip_if_missing(_kit.glm_tokenizer)
save_tiny = _skip_if_missing(_kit.save_tiny)
tiny_model = _kit.tiny_model
