"""Argument checks the library's tools share: each raises ValueError naming the argument."""

from __future__ import annotations


def positive(**values: float) -> None:
    """Raise ValueError for the first value that is not greater than zero."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be greater than 0, got {value}")


def non_negative(**values: float) -> None:
    """Raise ValueError for the first value that is below zero."""
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")


def percent(**values: float) -> None:
    """Raise ValueError for the first value outside 0..100."""
    for name, value in values.items():
        if not 0 <= value <= 100:
            raise ValueError(f"{name} must be between 0 and 100, got {value}")


def not_empty(**values: object) -> None:
    """Raise ValueError for the first empty string or list."""
    for name, value in values.items():
        if isinstance(value, str) and not value.strip() or not isinstance(value, str) and not value:
            raise ValueError(f"{name} must not be empty")
