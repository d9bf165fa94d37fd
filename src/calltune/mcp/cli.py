"""``calltune mcp serve``: offer calltune tools to MCP clients (stdio, or streamable HTTP on loopback)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..cli_options import BuiltinOpt, ToolsOpt, fail, toolbox_from_options


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command group to the main ``calltune`` app."""
    mcp_app = typer.Typer(
        name="mcp",
        help="MCP (Model Context Protocol): offer calltune tools to MCP clients.",
        no_args_is_help=True,
    )

    @mcp_app.command("serve")
    def serve_cmd(
        tools: ToolsOpt = None,
        builtin: BuiltinOpt = None,
        http: Annotated[
            int | None,
            typer.Option(
                "--http",
                metavar="PORT",
                help="Serve streamable HTTP on http://127.0.0.1:PORT/mcp (default: stdio).",
            ),
        ] = None,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Seconds allowed for one tool call.")
        ] = 30.0,
        name: Annotated[str, typer.Option("--name", help="The server name MCP clients see.")] = "calltune",
    ) -> None:
        """Serve --tools files and --builtin tools to MCP clients (stdio, or --http PORT).

        Calls are validated against each tool's JSON Schema and run with calltune's timeouts;
        the python built-in runs in the sandbox."""
        from ..errors import CalltuneError

        try:
            from .server import serve_http, serve_stdio
        except ImportError as e:
            raise fail(f"calltune mcp needs the MCP SDK ({e}): pip install 'calltune[mcp]'") from None
        overrides: dict[str, Any] = {}
        if "python" in (builtin or []):
            from ..sandbox import python_tool

            overrides["python"] = python_tool()  # one kernel for this server process, started on first use
        toolbox = toolbox_from_options(tools, builtin, timeout=timeout, overrides=overrides)
        if "python" in overrides:
            toolbox.on_close(overrides["python"].session.close)
        if not len(toolbox):
            toolbox.close()
            raise fail("no tools to serve: give --tools FILE and/or --builtin NAME")
        where = f"http://127.0.0.1:{http}/mcp" if http is not None else "stdio"
        typer.echo(
            f"calltune mcp serve: {len(toolbox)} tools ({', '.join(toolbox.names())}) on {where}", err=True
        )
        try:
            if http is None:
                serve_stdio(toolbox, name)
            else:
                serve_http(toolbox, http, name=name)
        except KeyboardInterrupt:
            pass
        except (CalltuneError, OSError) as e:
            raise fail(e) from None
        finally:
            toolbox.close()

    app.add_typer(mcp_app)
