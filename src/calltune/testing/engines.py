"""The scripted engine of the test kit (defined in :mod:`calltune.engines.scripted`)."""

from __future__ import annotations

from calltune.engines.scripted import CharTokenizer, ScriptedEngine

__all__ = ["CharTokenizer", "ScriptedEngine"]
