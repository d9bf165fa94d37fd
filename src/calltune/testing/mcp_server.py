"""A small MCP server written with the official SDK (``mcp.server.mcpserver.MCPServer``), for tests.

Run it as a stdio server (``python -m calltune.testing.mcp_server``) or over streamable HTTP on
loopback (``--http PORT``). ``--name`` sets the name it reports (two of them with the same tools
make a name clash); ``--log FILE`` appends the name of every tool it runs, one a line (so a test
can see which calls reached the server).

``toy_mcp_command(*args)`` is the command line that starts it over stdio; ``mcp_http_server(cmd)``
runs any MCP server command over HTTP on a free loopback port for the length of a ``with`` block.

Tools: ``add`` (two integers), ``get_weather`` (structured content), ``divide`` (``isError`` on a
zero divisor), ``echo``, ``pid`` (the server's process id), ``crash`` (the process exits mid-call)
and ``hang`` (never answers). ``--only add,get_weather`` keeps only those.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field


class Weather(BaseModel):
    location: str
    temperature: int
    unit: Literal["celsius", "fahrenheit"]
    conditions: str


def build(name: str = "toy", log: str | None = None, only: list[str] | None = None) -> MCPServer:
    """The toy server; ``log``: a file that gets the name of every tool run; ``only``: the tools kept."""
    server = MCPServer(name, log_level="WARNING")

    def seen(tool: str) -> None:
        if log:
            with Path(log).open("a", encoding="utf-8") as f:
                f.write(tool + "\n")

    def add(
        a: Annotated[int, Field(description="The first integer")],
        b: Annotated[int, Field(description="The second integer")],
    ) -> int:
        """Add two integers and return the sum."""
        seen("add")
        return a + b

    def get_weather(
        location: Annotated[str, Field(description="The city, e.g. Paris")],
        unit: Literal["celsius", "fahrenheit"] = "celsius",
    ) -> Weather:
        """Get the current weather in a city."""
        seen("get_weather")
        return Weather(
            location=location, temperature=22 if unit == "celsius" else 72, unit=unit, conditions="sunny"
        )

    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        seen("divide")
        if b == 0:
            raise ToolError("division by zero")
        return a / b

    def echo(text: str) -> str:
        """Return the text unchanged."""
        seen("echo")
        return text

    def pid() -> int:
        """The server's process id."""
        seen("pid")
        return os.getpid()

    def crash() -> str:
        """Exit the server process in the middle of the call."""
        seen("crash")
        os._exit(3)

    async def hang() -> str:
        """Never answer."""
        seen("hang")
        await anyio.sleep_forever()
        return "unreachable"

    for fn in (add, get_weather, divide, echo, pid, crash, hang):
        if only is None or fn.__name__ in only:
            server.add_tool(fn)
    return server


def toy_mcp_command(*args: str) -> str:
    """The command line that starts the toy server over stdio with this Python (``args`` are its options)."""
    return shlex.join([sys.executable, "-m", "calltune.testing.mcp_server", *args])


@contextmanager
def mcp_http_server(command: Sequence[str], timeout: float = 60.0) -> Iterator[str]:
    """Run ``command`` with ``--http PORT`` (a free loopback port) as a subprocess and yield its URL,
    ``http://127.0.0.1:PORT/mcp``, once the port accepts connections; the process is stopped on exit."""
    from calltune.server.background import free_port

    port = free_port()
    proc = subprocess.Popen([*command, "--http", str(port)], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{shlex.join(command)} exited with status {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{shlex.join(command)} did not listen on port {port}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="toy", help="The server name it reports.")
    p.add_argument(
        "--http", type=int, default=None, metavar="PORT", help="Streamable HTTP on 127.0.0.1:PORT."
    )
    p.add_argument("--log", default=None, help="Append the name of every tool run to this file.")
    p.add_argument("--only", default=None, help="Comma-separated names of the tools to keep.")
    args = p.parse_args(argv)
    server = build(args.name, args.log, args.only.split(",") if args.only else None)
    if args.http is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
