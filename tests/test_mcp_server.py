"""``calltune mcp serve`` as a subprocess (stdio and --http), driven by the MCP SDK's own client."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters  # noqa: E402

from calltune.cli import app  # noqa: E402
from calltune.mcp.server import mcp_tool  # noqa: E402
from calltune.testing import mcp_http_server  # noqa: E402
from calltune.tools import calculator, load_tools_file  # noqa: E402

ROOT = Path(__file__).parents[1]
WEATHER_FILE = ROOT / "examples" / "weather.py"
SERVE = [sys.executable, "-m", "calltune.cli", "mcp", "serve"]
SECRET = "calltune-mcp-secret-51c2e"


def stdio(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], *args], env=env)


def with_client(target: Any, body: Callable[[Client], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with Client(target) as client:
            return await body(client)

    return asyncio.run(main())


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


async def list_call_bad_good(client: Client) -> dict[str, Any]:
    out: dict[str, Any] = {"tools": (await client.list_tools()).tools}
    out["good"] = await client.call_tool("calculator", {"expression": "17 * 3"})
    out["bad"] = await client.call_tool("calculator", {"expr": 3})
    out["unknown"] = await client.call_tool("no_such_tool", {})
    out["after"] = await client.call_tool("get_current_weather", {"location": "Oslo"})
    return out


def check_session(out: dict[str, Any]) -> None:
    expected = [*load_tools_file(WEATHER_FILE), calculator]
    assert [t.name for t in out["tools"]] == [t.name for t in expected]
    for listed, local in zip(out["tools"], expected, strict=True):
        assert listed.input_schema == local.parameters  # the JSON Schema as calltune made it
        assert listed.description == local.description
        assert listed == mcp_tool(local)
    assert (out["good"].is_error, text(out["good"])) == (False, "51")
    assert out["bad"].is_error is True
    assert "unexpected argument 'expr'" in text(out["bad"])
    assert "missing required argument 'expression'" in text(out["bad"])
    assert out["unknown"].is_error and "unknown tool 'no_such_tool'" in text(out["unknown"])
    assert out["after"].is_error is False and '"location": "Oslo"' in text(out["after"])


def test_stdio_lists_tools_validates_and_keeps_serving() -> None:
    out = with_client(stdio("--tools", str(WEATHER_FILE), "--builtin", "calculator"), list_call_bad_good)
    check_session(out)


def test_http_lists_tools_validates_and_keeps_serving() -> None:
    with mcp_http_server([*SERVE, "--tools", str(WEATHER_FILE), "--builtin", "calculator"]) as url:
        out = with_client(url, list_call_bad_good)
        again = with_client(url, lambda c: c.call_tool("calculator", {"expression": "2 ** 10"}))
    check_session(out)
    assert text(again) == "1024"  # a second session on the same server


def test_a_call_that_outlasts_the_timeout_is_an_error_result(tmp_path: Path) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import time\nfrom calltune import tool\n\n"
        "@tool\ndef nap(seconds: float) -> str:\n"
        '    """Sleep."""\n    time.sleep(seconds)\n    return "rested"\n'
    )

    async def body(client: Client) -> tuple[Any, Any]:
        return await client.call_tool("nap", {"seconds": 30}), await client.call_tool("nap", {"seconds": 0})

    late, quick = with_client(stdio("--tools", str(slow), "--timeout", "1"), body)
    assert late.is_error and text(late) == "Error: tool 'nap' timed out after 1 s"
    assert (quick.is_error, text(quick)) == (False, "rested")


def test_no_tools_exits_2() -> None:
    r = CliRunner().invoke(app, ["mcp", "serve"])
    assert r.exit_code == 2 and "no tools to serve" in r.stderr


@pytest.mark.slow
def test_builtin_python_runs_code_and_keeps_the_sandbox(tmp_path: Path) -> None:
    pytest.importorskip("ipykernel")
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o777)  # plain permissions would allow the write: only the sandbox may stop it
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    env = {"CALLTUNE_TEST_SECRET": SECRET}  # a secret in the MCP server's environment

    async def body(client: Client) -> dict[str, str]:
        async def run(code: str) -> str:
            result = await client.call_tool("python", {"code": code})
            assert result.is_error is False  # the code failed, not the call
            return text(result)

        return {
            "state": await run("x = 6 * 7\nx"),
            "shadow": await run("open('/etc/shadow').read()"),
            "write": await run(f"open({str(outside / 'pwned.txt')!r}, 'w').write('x')"),
            "site": await run(f"open({str(site / 'zz_mcp_pwned.pth')!r}, 'w').write('import os')"),
            "env": await run(
                "import os\nprint('FOUND', [k for k, v in os.environ.items() if 'calltune-mcp-secret' in v])"
            ),
            "net": await run("import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=2)"),
            "after": await run("x + 1"),
        }

    out = with_client(stdio("--builtin", "python", env=env), body)
    assert out["state"] == "42"
    assert "PermissionError" in out["shadow"]
    os_errors = ("PermissionError", "FileNotFoundError", "OSError")  # /tmp is private in a mount namespace
    assert any(e in out["write"] for e in os_errors), out["write"]
    assert any(e in out["site"] for e in os_errors), out["site"]
    assert not (outside / "pwned.txt").exists() and not (site / "zz_mcp_pwned.pth").exists()
    assert "FOUND []" in out["env"] and SECRET not in out["env"]
    assert any(e in out["net"] for e in ("PermissionError", "OSError", "ConnectionRefused"))
    assert out["after"] == "43"  # the same kernel, still working
