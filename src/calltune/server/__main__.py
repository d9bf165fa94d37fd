"""``python -m calltune.server`` = ``calltune serve`` (same options)."""

from __future__ import annotations

import sys

import typer

from .cli import register


def main() -> None:
    app = typer.Typer(add_completion=False)
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "serve" a sub-command, as under the main CLI
        pass

    app(["serve", *sys.argv[1:]])


if __name__ == "__main__":
    main()
