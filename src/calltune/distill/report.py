"""The distillation report: teacher vs student on the held-out requests, decode speed, what the
training cost, and the command that serves the student — built from the journals (``eval/``,
the training log) and written as ``report.json`` and ``report.md``; printed as a rich table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .heldout import NO_CALL, decode_speed, score, summarize

REFERENCE_NOTE = (
    "The reference is the teacher's own blueprint (the calls it wrote each request for), so the "
    "teacher is favoured; the teacher's answer is the first turn of its trajectory."
)


def trained_tokens(log: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Steps and tokens of the model that came out, from ``train_log.jsonl``: a resumed run
    starts its token count again and redoes the steps after its checkpoint, so each step's
    tokens are its count's increase in its own run, and a redone step counts once (the last)."""
    per_step: dict[int, int] = {}
    last = {"step": 0, "tokens": 0, "elapsed_s": 0.0}
    for row in log:
        if "loss" not in row:  # the final eval row
            continue
        if any(row[k] < last[k] for k in ("tokens", "elapsed_s")) or row["step"] <= last["step"]:
            last = {"step": 0, "tokens": 0, "elapsed_s": 0.0}  # a resumed run: its counts start again
        per_step[int(row["step"])] = int(row["tokens"]) - int(last["tokens"])
        last = {k: row[k] for k in last}
    return {"steps": len(per_step), "tokens": sum(per_step.values())}


def build_report(
    rows: Sequence[Mapping[str, Any]],
    teacher: Mapping[str, Mapping[str, Any]],
    student: Mapping[str, Mapping[str, Any]],
    *,
    training: Mapping[str, Any],
    export: Mapping[str, Any] | None,
    serve: str,
    train_samples: int,
) -> dict[str, Any]:
    """The report (what ``report.json`` holds) from the held-out ``rows`` and the two models'
    results by request id (the teacher's with a ``probe`` where its speed was measured)."""
    t = summarize(rows, teacher)
    probes = [r["probe"] for r in teacher.values() if r.get("probe")]
    t["decode"] = decode_speed(probes)
    t["probes"] = len(probes)
    t["probes_same_as_trajectory"] = sum(
        (p.get("calls"), p.get("content")) == (r.get("calls"), r.get("content"))
        for r in teacher.values()
        if (p := r.get("probe"))
    )
    s = summarize(rows, student)
    s["decode"] = decode_speed(student.values())
    ts, ss = t["decode"]["tokens_per_s"], s["decode"]["tokens_per_s"]
    wrong = {
        name: {r["id"]: why for r in rows if r["id"] in res and (why := score(r, res[r["id"]]))}
        for name, res in (("teacher", teacher), ("student", student))
    }
    return {
        "heldout": {
            "requests": len(rows),
            "want_calls": sum(r["category"] not in NO_CALL for r in rows),
            "want_no_call": sum(r["category"] in NO_CALL for r in rows),
        },
        "train_samples": train_samples,
        "teacher": t,
        "student": s,
        "student_over_teacher_decode": round(ss / ts, 2) if ts and ss else None,
        "training": dict(training),
        "export": dict(export) if export else None,
        "serve": serve,
        "wrong": wrong,
        "reference": REFERENCE_NOTE,
    }


def _pct(cell: Mapping[str, Any]) -> str:
    if not cell["of"]:
        return "–"
    return f"{100 * cell['share']:.0f} % ({cell['correct']}/{cell['of']})"


def _speed(d: Mapping[str, Any]) -> str:
    if d["tokens_per_s"] is None:
        return "–"
    return f"{d['tokens_per_s']:.1f} ({d['requests']} requests)"


def table_rows(rep: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(measure, teacher, student)`` rows of the comparison table."""
    t, s = rep["teacher"], rep["student"]
    out = [
        ("exact calls", _pct(t["exact_calls"]), _pct(s["exact_calls"])),
        ("no call where none fits", _pct(t["no_call"]), _pct(s["no_call"])),
    ]
    for cat, cell in t["by_category"].items():
        out.append((f"  {cat}", _pct(cell), _pct(s["by_category"][cat])))
    out.append(("decode tokens/s", _speed(t["decode"]), _speed(s["decode"])))
    return out


def summary_lines(rep: Mapping[str, Any]) -> list[str]:
    """The lines around the table: the held-out set, training, export, the serve command."""
    h, tr = rep["heldout"], rep["training"]
    lines = [
        f"Held out: {h['requests']} requests ({h['want_calls']} that want calls, {h['want_no_call']} "
        f"that want none), never trained on; trained on {rep['train_samples']} kept samples.",
        REFERENCE_NOTE,
    ]
    probes = rep["teacher"]["probes"]
    if probes:
        same = rep["teacher"]["probes_same_as_trajectory"]
        lines.append(
            f"The teacher's speed: {probes} held-out requests run again ({same} of them gave the first "
            "turn of their trajectory)."
        )
    if rep["student_over_teacher_decode"]:
        lines.append(f"The student decodes {rep['student_over_teacher_decode']:.2f}× the teacher's tokens/s.")
    lines.append(
        f"Training: {tr.get('method')} on {tr.get('base')}, {tr.get('steps')} steps, "
        f"{tr.get('tokens', 0):,} tokens, {tr.get('seconds', 0):,.0f} s."
    )
    ex = rep.get("export")
    if ex:
        lines.append(
            f"Export: {ex['path']} ({ex['quant']}, {ex['bytes'] / 1e6:.1f} MB), served on llama.cpp."
        )
    else:
        lines.append("Export: none (--no-export): the student was evaluated on transformers.")
    lines.append(f"Serve it: {rep['serve']}")
    return lines


def report_markdown(rep: Mapping[str, Any]) -> str:
    """``report.md``."""
    head, *rest = summary_lines(rep)
    md = ["# Distillation report", "", head, "", "| | teacher | student |", "| --- | ---: | ---: |"]
    md += [
        f"| {m.strip() if not m.startswith('  ') else '· ' + m.strip()} | {a} | {b} |"
        for m, a, b in table_rows(rep)
    ]
    md += ["", *[f"{line}  " for line in rest[:-1]], "", f"Serve it: `{rep['serve']}`", ""]
    return "\n".join(md)


def print_report(rep: Mapping[str, Any], console: Any) -> None:
    """The table and the lines around it on ``console`` (rich)."""
    from rich.table import Table

    head, *rest = summary_lines(rep)
    table = Table(title="student vs teacher (held-out requests)")
    table.add_column("")
    table.add_column("teacher", justify="right")
    table.add_column("student", justify="right")
    for row in table_rows(rep):
        table.add_row(*row)
    console.print(head, highlight=False)
    console.print(table)
    for line in rest:
        console.print(line, highlight=False, soft_wrap=True)
