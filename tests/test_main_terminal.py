"""``calltune chat`` and ``calltune run`` in a real terminal (a PTY driven by pexpect), on a
scripted engine (``--engine scripted -m script.json``): the status line, Ctrl-C, printing once."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from calltune.testing import hermes_call  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
TOOLS = '''
import time
from typing import Annotated
from calltune import tool

@tool
def lookup_population(city: Annotated[str, "The city's name"]) -> dict:
    """Look up how many people live in a city."""
    time.sleep(1.0)
    return {"city": city, "population": 709000, "source": "a census table " * 12}
'''
STORY = "Once upon a time there was a very long story. " * 40


def _spawn(
    tmp_path: Path, outputs: list[str], *args: str, columns: int = 100, sigint_ignored: bool = False
) -> pexpect.spawn:
    (tmp_path / "tools.py").write_text(TOOLS)
    script = {"outputs": outputs, "delay_s": 0.03, "record": "prompts.jsonl"}
    (tmp_path / "script.json").write_text(json.dumps(script))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    argv = ["-m", "calltune.cli", *args, "--engine", "scripted", "-m", "script.json", "-t", "tools.py"]
    child = pexpect.spawn(
        sys.executable,
        [*argv, "--no-continue"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, columns),
        # a parent that ignores SIGINT passes that on (a test runner's worker did)
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
    )
    child.logfile_read = io.StringIO()  # everything it wrote
    return child


@contextlib.contextmanager
def _chat(tmp_path: Path, outputs: list[str], *args: str) -> Iterator[pexpect.spawn]:
    """``calltune chat`` at its first prompt; it must have quit (status 0) when the block ends."""
    child = _spawn(tmp_path, outputs, "chat", *args)
    try:
        child.expect("you> ")
        yield child
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def _screen(child: pexpect.spawn) -> str:
    return ANSI.sub("", child.logfile_read.getvalue()).replace("\r", "")


def _prompts(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["prompt"] for line in lines]


def test_chat_shows_status_stops_on_ctrl_c_and_keeps_the_history(tmp_path: Path) -> None:
    call = hermes_call("lookup_population", {"city": "Oslo"})
    outputs = [call, "yes", "About 709,000 people live in Oslo.", STORY, "You are welcome."]
    with _chat(tmp_path, outputs) as child:
        child.sendline("How many people live in Oslo?")
        child.expect("checking that lookup_population fits the question")  # the relevance check
        child.expect("→ call")
        child.expect("running lookup_population")  # the tool's one second
        child.expect("About 709,000 people live in Oslo.")
        child.expect("you> ")

        child.sendline("Tell me a long story")
        child.expect("Once upon a time")
        time.sleep(0.3)
        child.sendintr()  # mid-answer
        child.expect("interrupted")
        child.expect("you> ")

        child.sendline("Thanks")
        child.expect("You are welcome.")
        child.expect("you> ")
        child.sendintr()  # a Ctrl-C at the empty prompt: a hint
        child.expect("Ctrl-C again to quit")
        child.sendintr()  # the second one quits
    turns = _screen(child).split("you> ")
    assert turns[1].count("About 709,000 people live in Oslo.") == 1  # the answer, once
    assert "Once upon a time" in turns[2] and STORY.strip() not in turns[2]  # it stopped writing
    prompts = _prompts(tmp_path)
    assert len(prompts) == 5  # call, relevance check, answer, the interrupted story, thanks
    last = prompts[-1]
    # the earlier turn is in the next question's prompt; the interrupted one is not
    assert "How many people live in Oslo?" in last and '"population": 709000' in last
    assert "About 709,000 people live in Oslo." in last
    assert "Tell me a long story" not in last and "Once upon a time" not in last
    assert "Thanks<|im_end|>" in last


def test_ctrl_c_with_text_typed_clears_the_line(tmp_path: Path) -> None:
    with _chat(tmp_path, ["Hello."]) as child:
        child.send("half a question")
        time.sleep(0.2)
        child.sendintr()  # clears the line, does not count toward quitting
        child.expect("you> ")
        child.sendintr()
        child.expect("Ctrl-C again to quit")
        child.sendline("/exit")
    assert not (tmp_path / "prompts.jsonl").exists()  # nothing was asked


def test_ctrl_c_works_in_a_chat_started_with_sigint_ignored(tmp_path: Path) -> None:
    child = _spawn(tmp_path, ["Hello."], "chat", sigint_ignored=True)
    try:
        child.expect("you> ")
        child.sendintr()
        child.expect("Ctrl-C again to quit")
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_run_prints_the_answer_once_and_json_observations_unwrapped(tmp_path: Path) -> None:
    call = hermes_call("lookup_population", {"city": "Oslo"})
    answer = "About 709,000 people live in Oslo."
    child = _spawn(tmp_path, [call, "yes", answer], "run", "How many people live in Oslo?", columns=60)
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    screen = _screen(child)
    assert screen.count(answer) == 1 and "answer" not in screen.replace(answer, "")  # no panel
    assert "running lookup_population" in screen
    lines = screen.split("\n")
    source = next(i for i, line in enumerate(lines) if '"source":' in line)
    # the long value is cut at the terminal's width with an ellipsis, not wrapped onto the next line
    assert lines[source].endswith("…") and len(lines[source]) <= 60
    assert lines[source + 1].strip() == "}"
    assert any(line.strip() == '"population": 709000,' for line in lines)


def test_ctrl_c_while_the_code_interpreter_runs_interrupts_the_cell(tmp_path: Path) -> None:
    pytest.importorskip("ipykernel")
    slow = hermes_call("python", {"code": "import time\ntime.sleep(60)"})
    quick = hermes_call("python", {"code": "print('still here')"})
    outputs = [slow, quick, "The kernel still works."]
    with _chat(tmp_path, outputs, "-b", "python", "--out-dir", "files") as child:
        child.sendline("Sleep for a minute")
        child.expect("running python")
        time.sleep(2)  # the kernel starts (the cell may be running or still waiting for it)
        child.sendintr()
        child.expect("interrupted")
        child.expect("you> ")
        t0 = time.monotonic()
        child.sendline("Are you still there?")
        # the next cell runs at once in the same kernel: the sleeping one was interrupted
        child.expect(r"← python: (\x1b\[[0-9;]*m)*still here")  # its result, not the call's echo
        assert time.monotonic() - t0 < 12  # not after the cell's 30 s timeout
        child.expect("The kernel still works.")
        child.expect("you> ")
        child.sendline("/exit")
