"""The call loop."""

from .loop import Agent, RunResult
from .trace import StepTrace, Trace

__all__ = ["Agent", "RunResult", "StepTrace", "Trace"]
