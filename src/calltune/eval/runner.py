"""The BFCL runner: every system under test answers the same cases in one run.

Layout of a run directory::

    run.json                config (categories, limit, seed, systems)
    cases/<system>.jsonl    one record per case (id, prompt, raw output, calls, verdict, ...)
    partial/<system>.jsonl/<id>  a multi-turn case's finished turns while it runs (resume mid-case)
    summary.json            accuracy per category and system, latency mean/p95, tokens, error types
    report.md               the same as Markdown tables
    accuracy.png            grouped bar chart

Resumable: records are appended and flushed case by case; a rerun with the same
directory skips ids a system has already finished. Cases are interleaved across
categories, and every system answers a case before the next one starts, so a run
stopped at any point has compared the systems on the same cases.
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..turn.coercion import coerce_calls
from ..turn.fanout import fan_out
from ..turn.grounding import ground_calls
from ..turn.history import last_user_text
from .bfcl_checker import check_case
from .bfcl_data import BfclCase
from .convert import bfcl_to_tools, map_calls_back
from .memory import run_memory_case
from .multi_turn import run_multi_turn_case
from .output import merge_consecutive
from .report import CASES_DIR, read_records, system_file_name, write_report
from .systems import System, SystemOutput

PARTIAL_DIR = "partial"
#: where a run keeps each system's memory stores (BFCL's snapshot files) and prerequisite chains
MEMORY_DIR = "memory"


class _SlicedLock:
    """An exclusive ``flock`` on ``path`` held for at most ``slice_s`` seconds at a time:
    taken before a case, released after the case that ends the slice, so other heavy jobs
    on a shared machine get their turn (no-op when ``path`` is None)."""

    def __init__(self, path: str | Path | None, slice_s: float = 120.0):
        self.path = path
        self.slice_s = slice_s
        self._fh: Any = None
        self._since = 0.0

    def before_case(self) -> None:
        if self.path is None or self._fh is not None:
            return
        self._fh = open(self.path, "a")  # noqa: SIM115 - held across cases
        fcntl.flock(self._fh, fcntl.LOCK_EX)
        self._since = time.monotonic()

    def after_case(self) -> None:
        if self._fh is not None and time.monotonic() - self._since >= self.slice_s:
            self.release()

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def _open_append(path: Path) -> Any:
    """Open a JSONL file for appending; a torn last line (a killed run) is ended first so
    the next record starts on a line of its own."""
    fh = path.open("a+b")
    if fh.tell() > 0:
        fh.seek(-1, 2)
        if fh.read(1) != b"\n":
            fh.write(b"\n")
    fh.close()
    return path.open("a", encoding="utf-8")


def judge(case: BfclCase, out: SystemOutput, name_map: dict[str, str]) -> dict[str, Any]:
    """Map the calls back to BFCL names and judge them with BFCL's checker."""
    bfcl_calls = map_calls_back(out.calls, name_map)
    if out.parse_errors and not out.calls and case.possible_answer is not None:
        # the model tried to call but nothing parsed: BFCL calls this a decoder failure
        verdict_d = {
            "valid": False,
            "error_type": "ast_decoder:decoder_failed",
            "errors": [e.get("message", "") for e in out.parse_errors][:3],
        }
    else:
        verdict_d = check_case(
            case.category, case.checker_functions or case.functions, bfcl_calls, case.possible_answer
        ).to_dict()
    return {
        "id": case.id,
        "category": case.category,
        "valid": bool(verdict_d["valid"]),
        "error_type": verdict_d["error_type"],
        "errors": _short(verdict_d["errors"]),
        "prompt": out.prompt,
        "raw": out.raw,
        "calls": [c.to_dict() for c in out.calls],
        "calls_bfcl": [{n: a} for n, a in bfcl_calls],
        "parse_errors": out.parse_errors,
        "latency_s": round(out.latency_s, 4),
        "prompt_tokens": out.prompt_tokens,
        "completion_tokens": out.completion_tokens,
        "finish_reason": out.finish_reason,
        "guided": out.guided,
        **(
            {"raw_first": out.raw_first, "completion_tokens_first": out.completion_tokens_first}
            if out.raw_first is not None
            else {}
        ),
        **({"relevance": out.relevance, "dropped": out.dropped} if out.relevance else {}),
        **({"raw_called": out.raw_called} if out.raw_called is not None else {}),
        **({"ungrounded": out.ungrounded} if out.ungrounded else {}),
        **({"fanned": out.fanned} if out.fanned else {}),
        **({"coerced": out.coerced} if out.coerced else {}),
    }


def _short(errors: list[Any], limit: int = 1000) -> list[Any]:
    s = json.dumps(errors, ensure_ascii=False, default=str)
    return errors if len(s) <= limit else [s[:limit] + " …"]


def run_case(
    system: System,
    case: BfclCase,
    checkpoint: str | Path | None = None,
    on_progress: Any = None,
    memory_dir: str | Path | None = None,
) -> dict[str, Any]:
    """One system on one case → a record (a system exception becomes a failed record).
    ``checkpoint``: where a multi-turn case keeps its finished turns (resume mid-case);
    ``on_progress``: gets a line per multi-turn step; ``memory_dir``: where this system's
    memory stores and prerequisite chains live (a memory case needs it)."""
    t0 = time.perf_counter()
    try:
        if case.memory is not None:
            if memory_dir is None:
                raise ValueError("a memory case needs a memory_dir for its stores")
            rec = run_memory_case(system, case, memory_dir, on_progress)
            rec["system"] = system.name
            return rec
        if case.multi_turn is not None:
            rec = run_multi_turn_case(system, case, checkpoint, on_progress)
            rec["system"] = system.name
            return rec
        tools, name_map = bfcl_to_tools(case.functions)
        out = system.answer(case.messages, tools)
    except Exception as e:  # noqa: BLE001 - one failing case must not end the run
        rec = {
            "id": case.id,
            "category": case.category,
            "valid": False,
            "error_type": f"system_error:{type(e).__name__}",
            "errors": [str(e)[:500]],
            "prompt": "",
            "raw": "",
            "calls": [],
            "calls_bfcl": [],
            "parse_errors": [],
            "latency_s": round(time.perf_counter() - t0, 4),
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "finish_reason": "error",
            "guided": False,
        }
    else:
        rec = judge(case, out, name_map)
    rec["system"] = system.name
    return rec


class _Progress:
    """Rich progress bar with the running accuracy of each system (no-op when disabled)."""

    def __init__(self, enabled: bool, total: int, names: Sequence[str], done: dict[str, list[bool]]):
        self.enabled = enabled and total > 0
        self.current = ""
        self.names = names
        self.done = done
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.p = Progress(
                TextColumn("[bold]BFCL"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
            )
            self.task = self.p.add_task(self._desc(), total=total)

    def _desc(self) -> str:
        parts = []
        for n in self.names:
            v = self.done.get(n, [])
            acc = f"{100 * sum(v) / len(v):.1f}%" if v else "–"
            parts.append(f"{n} {acc}")
        return " | ".join(parts) + (f" | {self.current}" if self.current else "")

    def status(self, text: str) -> None:
        """What the current case is doing (a multi-turn case's turn and step)."""
        self.current = text
        if self.enabled:
            self.p.update(self.task, description=self._desc())

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.p.__enter__()
        return self

    def advance(self) -> None:
        if self.enabled:
            self.p.update(self.task, advance=1, description=self._desc())

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.p.__exit__(*exc)


def run_bfcl(
    systems: Sequence[System],
    cases: Sequence[BfclCase],
    out_dir: str | Path,
    *,
    progress: bool = True,
    lock_file: str | Path | None = None,
    lock_slice_s: float = 120.0,
    config: dict[str, Any] | None = None,
    title: str = "BFCL results",
) -> dict[str, Any]:
    """Run every system on every case (skipping finished ones), then write the report.

    ``lock_file``: hold an exclusive ``flock`` on it while cases run, released at the first
    case boundary after ``lock_slice_s`` seconds, so a long run on a shared machine lets
    other heavy jobs in between. Returns the summary dict.
    """
    if not systems:
        raise ValueError("no system to evaluate")
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        raise ValueError(f"system names must be unique, got {names}")
    out = Path(out_dir)
    (out / CASES_DIR).mkdir(parents=True, exist_ok=True)
    cfg = dict(config or {})
    cfg["systems"] = names
    cfg["n_cases"] = len(cases)
    (out / "run.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    wanted = {c.id for c in cases}
    finished: dict[str, set[str]] = {}
    verdicts: dict[str, list[bool]] = {}
    for n in names:
        prior = [r for r in read_records(out / CASES_DIR / system_file_name(n)) if r.get("id") in wanted]
        finished[n] = {r["id"] for r in prior}
        verdicts[n] = [bool(r.get("valid")) for r in prior]

    todo = [c for c in cases if any(c.id not in finished[n] for n in names)]
    handles = {n: _open_append(out / CASES_DIR / system_file_name(n)) for n in names}
    lock = _SlicedLock(lock_file, lock_slice_s)
    try:
        with _Progress(progress, len(todo), names, verdicts) as bar:
            for case in todo:
                for sysobj in systems:
                    if case.id in finished[sysobj.name]:
                        continue
                    lock.before_case()
                    bar.status(f"{sysobj.name}: {case.id}")
                    rec = run_case(
                        sysobj,
                        case,
                        out / PARTIAL_DIR / system_file_name(sysobj.name) / case.id,
                        on_progress=lambda t, n=sysobj.name: bar.status(f"{n}: {t}"),
                        memory_dir=out / MEMORY_DIR / system_file_name(sysobj.name).removesuffix(".jsonl"),
                    )
                    lock.after_case()
                    fh = handles[sysobj.name]
                    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                    fh.flush()
                    finished[sysobj.name].add(case.id)
                    verdicts[sysobj.name].append(rec["valid"])
                bar.status("")
                bar.advance()
    finally:
        lock.release()
        for fh in handles.values():
            fh.close()
    return write_report(collect(out, names, wanted), out, title=title)


def collect(
    out_dir: str | Path, names: Sequence[str], ids: set[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Records of the given systems in a run directory (last record per id wins)."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for n in names:
        by_id = {
            r["id"]: r
            for r in read_records(Path(out_dir) / CASES_DIR / system_file_name(n))
            if ids is None or r["id"] in ids
        }
        runs[n] = list(by_id.values())
    return runs


def rescore(
    run_dir: str | Path,
    source: str,
    target: str,
    format: Any,
    data_dir: str | Path | None = None,
    first_round: bool = False,
    keep_dropped: bool = False,
    keep_ungrounded: bool = False,
    keep_merged: bool = False,
    keep_uncoerced: bool = False,
    carry_stateful: bool = False,
) -> dict[str, Any]:
    """Re-parse the stored raw outputs of system ``source`` with chat format ``format`` and
    judge them again, as system ``target`` in the same run directory (no generation).

    Use it when the format's parser changed: the model's text is the same, only how it is
    read differs. ``first_round``: judge the output as it was before call continuation
    (``raw_first``, where the record has one), i.e. the same run without continuation.
    ``keep_dropped``: judge the calls the relevance check dropped as if it had kept them (the
    output with the calls, ``raw_called``, where the turn was generated again), i.e. the same
    run without the relevance check. Argument grounding is applied to the re-parsed calls as
    the turn applies it (it needs no generation); ``keep_ungrounded`` judges them without it,
    i.e. the same run without grounding (a required value the turn generated again for
    stays as generated). Fan-out (one call per thing a single-valued argument joins) is
    applied with grounding, as the turn applies it; ``keep_merged`` judges without it.
    Coercion (a structure or number given for a declared string is written out as its JSON
    text) is applied first, as the turn applies it; ``keep_uncoerced`` judges without it.
    Multi-turn records are left out of ``target``: their calls changed state that later steps
    saw, so an ablation there needs its own generation (a system such as ``calltune-no-missed``).
    ``carry_stateful`` copies them (and memory records) into ``target`` as generated instead, so
    that ``target`` has an overall: only for a rescore with no fix switched off (the defaults'
    column of a run whose single-turn part predates a change; the stateful part stays as it ran).
    Returns the run's summary (all systems of the directory)."""

    from .bfcl_data import load_category
    from .report import load_run

    if isinstance(format, str):
        from ..formats import get_format

        format = get_format(format)
    runs = load_run(run_dir)
    if source not in runs:
        raise ValueError(f"no system {source!r} in {run_dir}; it has: {', '.join(runs)}")
    if target in runs or target == source:
        raise ValueError(f"system {target!r} already exists in {run_dir}")
    if carry_stateful and (first_round or keep_dropped or keep_ungrounded or keep_merged or keep_uncoerced):
        raise ValueError(
            "--carry-stateful copies multi-turn and memory records unchanged: only for a rescore "
            "with no fix switched off (an ablation there needs its own generation)"
        )
    cases: dict[str, BfclCase] = {}
    for cat in sorted({r["category"] for r in runs[source]}):
        cases.update({c.id: c for c in load_category(cat, data_dir)})
    path = Path(run_dir) / CASES_DIR / system_file_name(target)
    with path.open("w", encoding="utf-8") as fh:
        for old in runs[source]:
            case = cases[old["id"]]
            if case.multi_turn is not None or case.memory is not None:
                # its calls ran against state, and each later step saw their results: re-reading
                # one output would not give the run without the fix, so the category is left
                # out (the report shows –) rather than copied unchanged, unless asked for
                if carry_stateful:
                    rec = old | {"system": target, "rescored_from": source, "carried": True}
                    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                continue
            tools, name_map = bfcl_to_tools(case.functions)
            names = [t["function"]["name"] for t in tools]
            raw = old["raw"]
            completion_tokens = int(old.get("completion_tokens") or 0)
            if keep_dropped and old.get("raw_called") is not None:
                raw = old["raw_called"]
            if first_round and old.get("raw_first") is not None:
                raw = old["raw_first"]
                completion_tokens = int(old.get("completion_tokens_first") or completion_tokens)
            parsed = format.parse(raw, tool_names=names)
            dropped = set() if keep_dropped else set(old.get("dropped") or [])
            if dropped:  # what the relevance check dropped stays dropped
                parsed.tool_calls = [c for c in parsed.tool_calls if c.name not in dropped]
            coerced: list[dict[str, Any]] = []
            if not keep_uncoerced:
                parsed.tool_calls, found = coerce_calls(parsed.tool_calls, tools)
                coerced = [c.to_dict() for c in found]
            fanned: list[dict[str, Any]] = []
            if not keep_ungrounded:
                messages = merge_consecutive(case.messages)
                parsed.tool_calls, _ = ground_calls(parsed.tool_calls, messages, tools)
                if not keep_merged:
                    parsed.tool_calls, split = fan_out(parsed.tool_calls, last_user_text(messages), tools)
                    fanned = [f.to_dict() for f in split]
            out = SystemOutput(
                raw=raw,
                calls=list(parsed.tool_calls),
                prompt=old.get("prompt", ""),
                parse_errors=[e.to_dict() for e in parsed.errors],
                prompt_tokens=int(old.get("prompt_tokens") or 0),
                completion_tokens=completion_tokens,
                latency_s=float(old.get("latency_s") or 0.0),
                finish_reason=str(old.get("finish_reason") or "stop"),
                guided=bool(old.get("guided")),
                fanned=fanned,
                coerced=coerced,
            )
            rec = judge(case, out, name_map)
            rec["system"] = target
            rec["rescored_from"] = source
            fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
    return write_report(load_run(run_dir), run_dir)
