"""The code interpreter: a sandboxed, stateful Python kernel per conversation.

``Sandbox`` runs cells in an isolated ipykernel (docs/sandbox.md says what is enforced);
``python_tool()`` is the OpenAI-style ``python`` tool (registered as the ``python`` built-in of
:mod:`calltune.tools`); ChatGLM3's ``<|assistant|>interpreter`` code goes to the same tool.
"""

from __future__ import annotations

from .fenced import CodeBlockFallback, fenced_python_blocks, with_code_fallback
from .isolation import Capabilities, probe_capabilities
from .kernel import Limits, Sandbox, SandboxError
from .result import CellResult
from .tool import PythonSession, python_tool, run_interpreter, system_prompt

__all__ = [
    "Capabilities",
    "CellResult",
    "CodeBlockFallback",
    "Limits",
    "PythonSession",
    "Sandbox",
    "SandboxError",
    "fenced_python_blocks",
    "probe_capabilities",
    "python_tool",
    "run_interpreter",
    "system_prompt",
    "with_code_fallback",
]


def _register_builtin() -> None:
    try:
        from ..tools import register_builtin
    except ImportError:  # the tools package is optional for direct Sandbox use
        return
    register_builtin("python", python_tool, replace=True)


_register_builtin()
