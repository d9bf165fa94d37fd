"""The built-in ``python`` tool and the ChatGLM3 ``interpreter`` role, both backed by a Sandbox.

One :class:`PythonSession` (one kernel) per conversation: every ``python_tool()`` call makes a
new session, and the agent maps ChatGLM3 ``<|assistant|>interpreter`` code blocks to calls of
the ``python`` tool, so both paths share the same kernel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .cellcode import final_return_as_value
from .filetypes import describe_file
from .kernel import Sandbox
from .result import CellResult

PYTHON_TOOL_DESCRIPTION = (
    "Run Python code in a stateful Jupyter kernel (variables persist between calls) and return what it "
    "printed, the value of the last expression, errors and the paths of saved images. The working "
    "directory holds the user's uploaded files; matplotlib figures are saved as PNG automatically. "
    "There is no internet access."
)

SandboxFactory = Callable[[], Sandbox]


class PythonSession:
    """A lazily started Sandbox for one conversation, callable as ``session(code) -> observation``."""

    def __init__(self, sandbox_factory: SandboxFactory | None = None, **sandbox_kwargs: Any) -> None:
        if sandbox_factory is not None and sandbox_kwargs:
            raise ValueError("pass either sandbox_factory or Sandbox keyword arguments, not both")
        self._factory: SandboxFactory = sandbox_factory or (lambda: Sandbox(**sandbox_kwargs))
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        #: every cell run in this conversation, in order (the server reads images from here)
        self.results: list[CellResult] = []

    @property
    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                self._sandbox = self._factory()
            return self._sandbox

    @property
    def last_result(self) -> CellResult | None:
        return self.results[-1] if self.results else None

    def run(self, code: str) -> CellResult:
        result = self.sandbox.run(final_return_as_value(code))
        self.results.append(result)
        return result

    def run_code(self, code: str) -> str:
        """Run ``code`` and return the observation text the model sees."""
        return self.run(code).to_observation()

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None


def python_tool(sandbox_factory: SandboxFactory | None = None, **sandbox_kwargs: Any) -> Any:
    """The OpenAI-style ``python`` tool (one parameter, ``code: str``) backed by a per-conversation
    Sandbox. ``sandbox_factory`` returns the Sandbox to use (default: ``Sandbox(**sandbox_kwargs)``,
    created on the first call). The returned Tool has ``.session`` (:class:`PythonSession`) for
    uploads, images and closing: ``tool.session.sandbox.upload(path)``, ``tool.session.close()``.
    """
    from ..tools import Tool

    session = PythonSession(sandbox_factory, **sandbox_kwargs)

    def python(code: str) -> str:
        """Run Python code in a stateful Jupyter kernel.

        Args:
            code: The Python code to run (a whole cell; the last expression's value is shown).
        """
        return session.run_code(code)

    # the cell timeout plus an interrupt, a possible kernel restart and the first start
    timeout = float(sandbox_kwargs.get("timeout", 30.0)) + 90.0
    if sandbox_factory is not None:
        timeout = None  # type: ignore[assignment]
    tool = Tool(
        python,
        name="python",
        description=PYTHON_TOOL_DESCRIPTION,
        parameters={
            "type": "object",
            "properties": {"code": {"type": "string", "description": "Python code to run in the kernel."}},
            "required": ["code"],
        },
        timeout=timeout if timeout is not None else 600.0,
    )
    tool.session = session  # type: ignore[attr-defined]
    return tool


def run_interpreter(sandbox: Sandbox, code: str) -> str:
    """The observation for a ChatGLM3 ``<|assistant|>interpreter`` code block (the chat format
    wraps it in a ```` ```result ```` fence)."""
    return sandbox.run(final_return_as_value(code)).to_observation()


def system_prompt(sandbox: Sandbox | None = None, uploads: list[str] | None = None) -> str:
    """A system-prompt paragraph telling the model how to use the code interpreter: where the
    files are (``/mnt/data`` when a mount namespace is available, else the host working
    directory), the limits, and that there is no network."""
    if sandbox is not None:
        where = sandbox.sandbox_dir
        limit = sandbox.limits.timeout
        files = uploads if uploads is not None else sandbox.files()
    else:
        where, limit, files = "/mnt/data", 30.0, uploads or []
    lines = [
        "You can run Python code with the `python` tool: a stateful Jupyter kernel (variables persist "
        f"between calls). The current directory is {where}; the user's files are there and files you "
        "save there are kept. matplotlib figures are saved as PNG and reported automatically. "
        f"Each run may take at most {limit:g} seconds; there is no internet access. "
        "Run code to get real results before you answer; never invent output. When the result comes "
        "back, answer the user in plain words based on it instead of running the same code again."
    ]
    visible = [f for f in files if not f.startswith(".") and not f.startswith("figure_")]
    if visible:
        paths = [f if f.startswith("/") else f"{where.rstrip('/')}/{f}" for f in visible[:20]]
        lines.append(
            f"Uploaded files: {'; '.join(describe_file(p) for p in paths)}. Open each by its real type."
        )
    return "\n".join(lines)
