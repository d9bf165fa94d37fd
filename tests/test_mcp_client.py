"""calltune as an MCP client: real MCP servers (the SDK-written toy server) over stdio and HTTP.

The toy server runs as a subprocess each time; a scripted engine drives the agent, so nothing
but the protocol is real here (the last test uses the real default model).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

pytest.importorskip("mcp")

import calltune.engines as engines  # noqa: E402
from calltune import Agent, Toolbox, tool  # noqa: E402
from calltune.cli import app  # noqa: E402
from calltune.mcp import (  # noqa: E402
    McpClient,
    McpConnectError,
    McpNameClashWarning,
    McpServerSpec,
    McpSpecError,
    McpTimeoutError,
)
from calltune.server import create_app  # noqa: E402
from calltune.server.background import BackgroundServer  # noqa: E402
from calltune.testing import (  # noqa: E402
    ScriptedEngine,
    free_port,
    hermes_call,
    mcp_http_server,
    toy_mcp_command,
)

TOY = [sys.executable, "-m", "calltune.testing.mcp_server"]


def agent(engine: ScriptedEngine, toolbox: Toolbox) -> Agent:
    """Scripted outputs script every generation: continuation and the relevance check are off."""
    return Agent(engine, toolbox, format="hermes", continue_calls=False, check_relevance=False)


def calls_seen(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


@pytest.fixture(scope="module")
def http_url():
    """The toy server over streamable HTTP on a free loopback port, for the whole module."""
    with mcp_http_server([*TOY, "--name", "webtoy"]) as url:
        yield url


def test_stdio_server_tools_become_calltune_tools_and_the_agent_calls_them(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    with Toolbox.from_mcp(toy_mcp_command("--log", str(log))) as box:
        assert box.names() == ["add", "get_weather", "divide", "echo", "pid", "crash", "hang"]
        add = box.get("add")
        assert add.description == "Add two integers and return the sum."
        assert add.parameters["properties"]["a"] == {
            "description": "The first integer",
            "title": "A",
            "type": "integer",
        }
        assert add.parameters["required"] == ["a", "b"]
        eng = ScriptedEngine([hermes_call("add", {"a": 2, "b": 3}), "2 + 3 = 5."])
        result = agent(eng, box).run("What is 2 + 3?")
    assert result.answer == "2 + 3 = 5."
    obs = result.trace.observations[0]
    assert (obs["name"], obs["ok"], obs["content"]) == ("add", True, "5")
    assert "<tool_response>\n5\n</tool_response>" in result.trace.steps[1].prompt  # the model read it
    assert '"name": "add"' in result.trace.steps[0].prompt  # and was shown the MCP tool
    assert calls_seen(log) == ["add"]


def test_http_server_structured_content_comes_back_as_json(http_url: str) -> None:
    with Toolbox.from_mcp(http_url) as box:
        eng = ScriptedEngine([hermes_call("get_weather", {"location": "Paris"}), "Sunny, 22 °C."])
        result = agent(eng, box).run("Weather in Paris?")
    obs = result.trace.observations[0]
    assert obs["ok"] is True
    assert json.loads(obs["content"]) == {
        "location": "Paris",
        "temperature": 22,
        "unit": "celsius",
        "conditions": "sunny",
    }
    assert result.answer == "Sunny, 22 °C."


def test_is_error_becomes_an_error_observation_and_the_agent_goes_on(http_url: str) -> None:
    with Toolbox.from_mcp(http_url) as box:
        eng = ScriptedEngine([hermes_call("divide", {"a": 1, "b": 0}), "It cannot be divided by zero."])
        result = agent(eng, box).run("1 / 0?")
        after = box.execute({"name": "divide", "arguments": {"a": 6, "b": 4}})
    obs = result.trace.observations[0]
    assert obs["ok"] is False
    assert "division by zero" in obs["content"] and obs["content"].startswith("Error:")
    assert result.answer == "It cannot be divided by zero."
    assert (after.ok, after.content) == (True, "1.5")


def test_bad_arguments_are_rejected_by_the_schema_before_the_call(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    with Toolbox.from_mcp(toy_mcp_command("--log", str(log))) as box:
        bad = box.execute({"name": "add", "arguments": {"a": "two"}})
        assert bad.kind == "invalid_arguments"
        assert "missing required argument 'b'" in bad.content
        assert "'two' is not of type 'integer'" in bad.content
        assert calls_seen(log) == []  # never reached the server
        good = box.execute({"name": "add", "arguments": {"a": 40, "b": 2}})
    assert (good.ok, good.content) == (True, "42")
    assert calls_seen(log) == ["add"]


def test_a_server_that_crashes_mid_call_becomes_an_observation() -> None:
    with Toolbox.from_mcp(toy_mcp_command(), timeout=20) as box:
        eng = ScriptedEngine([hermes_call("crash", {}), "The tool server is gone."])
        t0 = time.monotonic()
        result = agent(eng, box).run("Crash, please.")
        elapsed = time.monotonic() - t0
        later = box.execute({"name": "echo", "arguments": {"text": "hello?"}})
    obs = result.trace.observations[0]
    assert obs["ok"] is False
    assert "closed the connection before answering 'crash'" in obs["content"]
    assert elapsed < 10  # at once, not after the 20 s timeout
    assert result.answer == "The tool server is gone."
    assert not later.ok and "MCP server 'toy'" in later.content


def test_a_server_that_crashes_over_http_answers_at_once() -> None:
    with mcp_http_server(TOY) as url, Toolbox.from_mcp(url, timeout=3) as box:
        t0 = time.monotonic()
        obs = box.execute({"name": "crash", "arguments": {}})
        assert time.monotonic() - t0 < 3
    assert not obs.ok and "closed the connection before answering 'crash'" in obs.content


def test_a_server_that_hangs_times_out_and_keeps_serving(http_url: str) -> None:
    with pytest.warns(McpNameClashWarning):
        box = Toolbox.from_mcp(toy_mcp_command(), http_url, timeout=2)
    with box:
        t0 = time.monotonic()
        obs = box.execute({"name": "toy_hang", "arguments": {}})
        elapsed = time.monotonic() - t0
        assert obs.kind == "timeout" and obs.content == "Error: tool 'toy_hang' timed out after 2 s"
        assert 1.9 < elapsed < 4
        # both calls of one turn run concurrently: a hanging one does not hold up the other
        t0 = time.monotonic()
        hung, echoed = box.execute_many(
            [
                {"name": "webtoy_hang", "arguments": {}},
                {"name": "toy_echo", "arguments": {"text": "still here"}},
            ]
        )
        assert time.monotonic() - t0 < 4
        assert hung.kind == "timeout" and (echoed.ok, echoed.content) == (True, "still here")
        assert box.execute({"name": "webtoy_echo", "arguments": {"text": "me too"}}).content == "me too"


def test_two_servers_with_clashing_names_are_prefixed_and_reported(tmp_path: Path) -> None:
    a_log, b_log = tmp_path / "a.log", tmp_path / "b.log"
    servers = [
        toy_mcp_command("--name", "alpha", "--only", "echo,add", "--log", str(a_log)),
        toy_mcp_command("--name", "beta", "--only", "echo,pid", "--log", str(b_log)),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        box = Toolbox.from_mcp(*servers)
    with box:
        assert box.names() == ["add", "alpha_echo", "beta_echo", "pid"]
        assert box.execute({"name": "beta_echo", "arguments": {"text": "b"}}).content == "b"
        assert box.execute({"name": "alpha_echo", "arguments": {"text": "a"}}).content == "a"
        assert "tool 'echo' of MCP server 'beta'" in box.get("beta_echo").description
    assert calls_seen(a_log) == ["echo"] and calls_seen(b_log) == ["echo"]
    messages = [str(w.message) for w in caught if issubclass(w.category, McpNameClashWarning)]
    assert messages == [
        "tool names offered by more than one source, prefixed with the MCP server's name: "
        "'echo' → 'alpha_echo', 'beta_echo'"
    ]


def test_local_tools_keep_their_names_and_a_clashing_mcp_tool_is_prefixed() -> None:
    @tool
    def echo(text: str) -> str:
        """Echo locally."""
        return "local " + text

    with pytest.warns(McpNameClashWarning, match="'echo' → 'toy_echo'"):
        box = Toolbox.from_mcp(toy_mcp_command("--only", "echo"), tools=[echo])
    with box:
        assert box.names() == ["echo", "toy_echo"]
        assert box.execute({"name": "echo", "arguments": {"text": "x"}}).content == "local x"
        assert box.execute({"name": "toy_echo", "arguments": {"text": "x"}}).content == "x"


def test_the_client_blocking_calls_and_closing_stops_the_subprocess() -> None:
    client = McpClient([toy_mcp_command()], timeout=5)
    with client:
        pid = int(client.call("toy", "pid", {}))
        os.kill(pid, 0)  # running
        assert client.call("toy", "add", {"a": 1, "b": 2}) == "3"
        t0 = time.monotonic()
        with pytest.raises(McpTimeoutError, match="did not answer 'hang' within 1 s"):
            client.call("toy", "hang", {}, timeout=1)
        assert time.monotonic() - t0 < 3
        assert client.call("toy", "echo", {"text": "ok"}) == "ok"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the server process {pid} still runs after close()")


def test_servers_that_cannot_be_used_raise_clear_errors() -> None:
    with pytest.raises(McpConnectError, match="could not be started: .*No such file"):
        McpClient(["/nonexistent/mcp-server --flag"])
    silent = f"{sys.executable} -c 'import time; time.sleep(60)'"
    t0 = time.monotonic()
    with pytest.raises(McpConnectError, match="did not complete the MCP handshake within 2 s"):
        McpClient([silent], connect_timeout=2)
    assert time.monotonic() - t0 < 2 + 8  # the silent process was stopped, not waited for
    with pytest.raises(McpConnectError, match="could not be started"):
        McpClient([f"{sys.executable} -c 'print(1)'"], connect_timeout=10)
    nobody = f"http://127.0.0.1:{free_port()}/mcp"
    with pytest.raises(McpConnectError, match="could not be reached: ConnectError"):
        McpClient([nobody], connect_timeout=10)
    with pytest.raises(McpSpecError, match="only http:// and https://"):
        McpServerSpec.parse("ws://127.0.0.1:1/mcp")
    with pytest.raises(McpSpecError, match="needs a command line"):
        McpServerSpec.parse("  ")
    assert McpServerSpec.parse("python 'my server.py' --x").command == ("python", "my server.py", "--x")
    assert McpServerSpec.parse("http://127.0.0.1:9/mcp").url == "http://127.0.0.1:9/mcp"


def test_cli_run_with_mcp_servers(monkeypatch: pytest.MonkeyPatch, http_url: str) -> None:
    outputs = [hermes_call("webtoy_add", {"a": 20, "b": 22}), "The answer is 42."]
    monkeypatch.setattr(engines, "load_engine", lambda model=None, **kw: ScriptedEngine(outputs))
    args = ["run", "--json", "--mcp", toy_mcp_command("--only", "add"), "--mcp", http_url, "-f", "hermes"]
    r = CliRunner().invoke(app, [*args, "--no-relevance", "--no-continue", "What is 20 + 22?"])
    assert r.exit_code == 0, r.output
    trace = json.loads(r.stdout)
    assert trace["answer"] == "The answer is 42."
    assert [m["content"] for m in trace["messages"] if m["role"] == "tool"] == ["42"]
    assert "warning:" in r.stderr and "'add' → 'toy_add', 'webtoy_add'" in r.stderr


def test_cli_exits_2_for_an_mcp_server_that_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "load_engine", lambda model=None, **kw: ScriptedEngine(["x"]))
    r = CliRunner().invoke(app, ["run", "--mcp", "/nonexistent/server", "hi"])
    assert r.exit_code == 2
    assert "could not be started" in r.stderr


def test_cli_serve_with_mcp_hands_the_tools_to_the_server_and_closes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from calltune.server import app as server_app

    seen: dict[str, Any] = {}

    def fake_serve(model: str | None, **kw: Any) -> None:
        box = kw["toolbox"]
        seen.update(
            box=box, names=box.names(), add=box.execute({"name": "add", "arguments": {"a": 1, "b": 1}})
        )

    monkeypatch.setattr(server_app, "serve", fake_serve)
    r = CliRunner().invoke(app, ["serve", "--mcp", toy_mcp_command("--only", "add,echo")])
    assert r.exit_code == 0, r.output
    assert seen["names"] == ["add", "echo"] and seen["add"].content == "2"
    after = seen["box"].execute({"name": "echo", "arguments": {"text": "x"}})  # closed with the server
    assert not after.ok and "is not connected any more" in after.content


def test_serve_offers_mcp_tools_to_the_playground(http_url: str) -> None:
    with Toolbox.from_mcp(http_url) as box:
        fastapi_app = create_app(ScriptedEngine(["x"]), format="hermes", toolbox=box, api_key="k")
        with BackgroundServer(fastapi_app) as srv:
            auth = {"Authorization": "Bearer k"}
            assert httpx.get(srv.base_url + "/calltune/tools").status_code == 401
            listed = httpx.get(srv.base_url + "/calltune/tools", headers=auth).json()["tools"]
            assert [t["function"]["name"] for t in listed] == box.names()
            assert listed[0]["function"]["parameters"]["required"] == ["a", "b"]
            call = {"name": "add", "arguments": '{"a": 5, "b": 6}'}  # as the playground sends it
            r = httpx.post(srv.base_url + "/calltune/tools/call", json=call, headers=auth, timeout=30)
            assert r.status_code == 200 and (r.json()["ok"], r.json()["content"]) == (True, "11")
            bad = {"name": "add", "arguments": {"a": 5}}
            r = httpx.post(srv.base_url + "/calltune/tools/call", json=bad, headers=auth, timeout=30)
            assert r.json()["ok"] is False and "missing required argument 'b'" in r.json()["content"]
    plain = create_app(ScriptedEngine(["x"]), format="hermes")
    with BackgroundServer(plain) as srv:
        assert httpx.get(srv.base_url + "/calltune/tools").json() == {"tools": []}
        r = httpx.post(srv.base_url + "/calltune/tools/call", json={"name": "add", "arguments": {}})
        assert r.status_code == 404 and "--mcp" in r.json()["error"]["message"]


def test_result_content_and_names_are_converted() -> None:
    import mcp_types as t

    from calltune.mcp.convert import assign_names, result_text

    structured = {"temperature": 22, "city": "Zürich"}
    both = t.CallToolResult(
        content=[t.TextContent(type="text", text=json.dumps(structured, indent=2))],
        structured_content=structured,
    )
    assert result_text(both) == '{"temperature": 22, "city": "Zürich"}'
    assert result_text(t.CallToolResult(content=[], structured_content={"a": 1})) == '{"a": 1}'
    summary = t.CallToolResult(
        content=[t.TextContent(type="text", text="5")], structured_content={"result": 5}
    )
    assert result_text(summary) == "5"  # the server's own text wins when it says something else
    mixed = t.CallToolResult(
        content=[
            t.TextContent(type="text", text="a chart:"),
            t.ImageContent(type="image", data="aGVsbG8=", mime_type="image/png"),
            t.ResourceLink(type="resource_link", uri="file:///tmp/x.csv", name="x.csv", description="data"),
            t.EmbeddedResource(
                type="resource", resource=t.TextResourceContents(uri="mem://note", text="inline note")
            ),
        ]
    )
    assert result_text(mixed) == (
        "a chart:\n[image image/png, 5 bytes]\n[resource file:///tmp/x.csv (x.csv): data]\ninline note"
    )
    names, warnings = assign_names(
        {"a": ["echo", "b_echo", "bad name"], "b": ["echo", "ok"]}, reserved=["ok"]
    )
    assert names == {
        ("a", "echo"): "a_echo",
        ("a", "b_echo"): "b_echo",
        ("b", "echo"): "b_echo_2",
        ("b", "ok"): "b_ok",
    }
    assert warnings[0].startswith("MCP server 'a': tool 'bad name' left out")
    assert warnings[1].endswith("'echo' → 'a_echo', 'b_echo_2'; 'ok' → 'b_ok'")


@pytest.mark.model
def test_the_default_model_answers_with_an_mcp_tool(default_engine) -> None:
    with Toolbox.from_mcp(toy_mcp_command("--only", "get_weather")) as box:
        result = Agent(default_engine, box).run("What's the weather like in Paris right now?")
    calls = result.trace.tool_calls
    assert [c["name"] for c in calls][:1] == ["get_weather"], result.to_json()
    assert "paris" in calls[0]["arguments"]["location"].lower()
    assert result.trace.observations[0]["ok"] is True
    assert "22" in result.answer or "sunny" in result.answer.lower(), result.answer
