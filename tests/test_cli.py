"""The ``calltune`` command line as a whole (each command is tested with its module)."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_starts_without_loading_torch_xgrammar_or_fastapi():
    """``calltune --help`` took 8.8 s when the CLI's import loaded the grammar builder (xgrammar,
    torch) and the server (FastAPI); they load when a command needs them."""
    code = (
        "import sys, calltune.cli\n"
        "print(sorted(m for m in ('torch', 'xgrammar', 'fastapi', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
