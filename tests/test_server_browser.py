"""The playground in a real browser: headless Debian chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from calltune.testing import WEATHER_Q, ScriptedEngine, served
from calltune.testing import hermes_call as call_text

CHROMIUM = os.environ.get("CALLTUNE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _ask_weather(page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.wait_for_selector("#model-info:not(:has-text('connecting'))")
    page.fill("#user-input", WEATHER_Q)
    page.click("#send")


def test_playground_renders_a_streamed_tool_call(browser, tmp_path: Path) -> None:
    out = "Let me look that up.\n" + call_text(
        "get_current_weather", {"location": "Paris", "unit": "celsius"}
    )
    with served([out, "It is 22 °C and sunny in Paris."]) as (_, _c, srv):
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _ask_weather(page, srv.base_url)
        card = page.wait_for_selector("[data-testid=tool-call]", timeout=15_000)
        page.wait_for_selector(".msg.assistant .meta", timeout=15_000)  # the turn is over
        assert card.query_selector(".tool-call-name").inner_text() == "get_current_weather"
        args = json.loads(card.query_selector(".tool-call-args").inner_text())
        assert args == {"location": "Paris", "unit": "celsius"}
        assert page.inner_text(".msg.assistant .content") == "Let me look that up."
        assert "finish_reason: tool_calls" in page.inner_text(".msg.assistant .meta")
        # the prompt panel shows what the model saw, with the format's role markers
        page.wait_for_function("document.querySelectorAll('#prompt .marker').length > 0")
        prompt = page.inner_text("#prompt")
        assert "<|im_start|>" in prompt and '"name": "get_current_weather"' in prompt and WEATHER_Q in prompt
        page.screenshot(path=str(tmp_path / "playground-tool-call.png"), full_page=True)
        page.locator("#prompt").screenshot(path=str(tmp_path / "playground-prompt.png"))
        # send the tool's result back: the final answer is rendered
        page.fill(".tool-result-input", '{"temperature": 22, "sky": "sunny"}')
        page.click(".tool-result button")
        page.wait_for_function(
            "document.querySelectorAll('.msg.assistant .meta').length == 2", timeout=15_000
        )
        answers = page.locator(".msg.assistant .content").all_inner_texts()
        assert answers[-1] == "It is 22 °C and sunny in Paris."
        page.screenshot(path=str(tmp_path / "playground-answer.png"), full_page=True)
        assert errors == []
        page.close()
    assert (tmp_path / "playground-tool-call.png").stat().st_size > 10_000
    _keep_screenshots(tmp_path)


def test_playground_shows_arguments_and_thinking_as_they_arrive(browser, tmp_path: Path) -> None:
    where = "Paris, the capital of France, on the Seine, " * 2  # within the playground's max_tokens (256)
    final_args = {"location": where, "unit": "celsius"}
    out = "<think>\nThe user asks about Paris.\n</think>\n\n" + call_text("get_current_weather", final_args)
    engine = ScriptedEngine([out], chunk_size=1, delay_s=0.03)  # about 7 s of "generation"
    with served(engine) as (_, _c, srv):
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _ask_weather(page, srv.base_url)
        page.wait_for_selector("[data-testid=reasoning][open]", timeout=15_000)
        page.wait_for_function(
            "(document.querySelector('.tool-call.streaming .tool-call-args') || {}).textContent?.length > 20",
            timeout=15_000,
        )
        partial = page.inner_text(".tool-call.streaming .tool-call-args")
        assert page.query_selector(".msg.assistant .meta") is None  # the turn is still being written
        page.screenshot(path=str(tmp_path / "playground-arguments-streaming.png"), full_page=True)
        page.wait_for_selector(".msg.assistant .meta", timeout=30_000)
        assert json.dumps(final_args, ensure_ascii=False).startswith(partial)
        card = page.query_selector("[data-testid=tool-call]")
        assert "streaming" not in (card.get_attribute("class") or "")
        shown = card.query_selector(".tool-call-args").inner_text()
        assert json.loads(shown) == final_args, shown
        box = page.query_selector("[data-testid=reasoning]")
        assert box.get_attribute("open") is None  # folded once the answer is there
        assert box.query_selector(".reasoning-text").text_content() == "The user asks about Paris."
        assert page.inner_text(".msg.assistant .content") == ""
        assert errors == []
        page.close()
    _keep_screenshots(tmp_path)


def _keep_screenshots(tmp_path: Path) -> None:
    shot_dir = os.environ.get("CALLTUNE_SCREENSHOTS")
    if shot_dir:  # keep the screenshots for a person to look at
        Path(shot_dir).mkdir(parents=True, exist_ok=True)
        for f in tmp_path.glob("*.png"):
            shutil.copy(f, Path(shot_dir) / f.name)


def test_playground_shows_server_errors(browser) -> None:
    with served(["unused"]) as (_, _c, srv):
        page = browser.new_page()
        page.goto(srv.base_url + "/")
        page.fill("#named-tool", "launch_rocket")  # not among the tools: the server answers 400
        page.fill("#user-input", WEATHER_Q)
        page.click("#send")
        err = page.wait_for_selector(".msg.assistant .error", timeout=10_000)
        assert err.inner_text().startswith("400:") and "launch_rocket" in err.inner_text()
        page.close()


def test_playground_offers_and_runs_mcp_tools(browser, tmp_path: Path) -> None:
    pytest.importorskip("mcp")
    from calltune import Toolbox
    from calltune.testing import toy_mcp_command

    outputs = [call_text("get_weather", {"location": "Paris"}), "It is 22 °C and sunny in Paris."]
    with (
        Toolbox.from_mcp(toy_mcp_command("--only", "get_weather")) as box,
        served(outputs, toolbox=box) as (_, _c, srv),
    ):
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.base_url + "/")
        page.wait_for_function("document.getElementById('examples').value === 'server'", timeout=10_000)
        offered = json.loads(page.input_value("#tools"))
        assert [t["function"]["name"] for t in offered] == ["get_weather"]
        page.fill("#user-input", "What's the weather in Paris?")
        page.click("#send")
        page.click("[data-testid=run-on-server]", timeout=15_000)  # the MCP server runs the call
        page.wait_for_function(
            "document.querySelectorAll('.msg.assistant .meta').length == 2", timeout=15_000
        )
        sent = json.loads(page.inner_text(".tool-result-sent").removeprefix("→ "))
        assert sent == {"location": "Paris", "temperature": 22, "unit": "celsius", "conditions": "sunny"}
        answers = page.locator(".msg.assistant .content").all_inner_texts()
        assert answers[-1] == "It is 22 °C and sunny in Paris."
        page.screenshot(path=str(tmp_path / "playground-mcp.png"), full_page=True)
        assert errors == []
        page.close()
    _keep_screenshots(tmp_path)


@pytest.mark.model
def test_playground_with_the_real_model(browser, default_engine, tmp_path: Path) -> None:
    from calltune.server import create_app
    from calltune.server.background import BackgroundServer

    app = create_app(default_engine, model_name="default")
    with BackgroundServer(app) as srv:
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        _ask_weather(page, srv.base_url)
        page.wait_for_selector(".msg.assistant .meta", timeout=240_000)
        page.screenshot(path=str(tmp_path / "playground-real-model.png"), full_page=True)
        _keep_screenshots(tmp_path)
        card = page.query_selector("[data-testid=tool-call]")
        assert card is not None, page.inner_text(".msg.assistant")
        assert card.query_selector(".tool-call-name").inner_text() == "get_current_weather"
        assert "paris" in card.query_selector(".tool-call-args").inner_text().lower()
        page.close()
