"""Validation of seed-format samples: schema, DESIGN.md §2's role-order rules, tool calls.

Every problem is reported with the sample's location (``file:line``) and the message
index inside it; nothing is dropped silently (``skip_invalid`` drops and counts).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..errors import CalltuneError
from .data import ROLES, Record, tool_entries, tool_function


@dataclass
class Issue:
    location: str
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"


def _check_tools(tools: Any) -> tuple[list[str], dict[str, dict[str, Any]]]:
    errors: list[str] = []
    by_name: dict[str, dict[str, Any]] = {}
    if tools is None:
        return errors, by_name
    if not isinstance(tools, list):
        return ["'tools' must be a list of tool objects"], by_name
    for i, t in enumerate(tools):
        if not isinstance(t, dict):
            errors.append(f"tools[{i}] must be an object")
            continue
        fn = tool_function(t)
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"tools[{i}] has no 'name'")
            continue
        params = fn.get("parameters")
        if params is not None:
            if not isinstance(params, dict):
                errors.append(f"tools[{i}] ({name}): 'parameters' must be a JSON Schema object")
            else:
                try:
                    jsonschema.Draft202012Validator.check_schema(params)
                except jsonschema.SchemaError as e:
                    errors.append(f"tools[{i}] ({name}): invalid parameters schema: {e.message}")
        if name in by_name:
            errors.append(f"tools[{i}]: duplicate tool name {name!r}")
        by_name[name] = fn
    return errors, by_name


def _check_call(where: str, call: Any, tools: dict[str, dict[str, Any]]) -> list[str]:
    if not isinstance(call, dict):
        return [f"{where}: a call must be an object with name/parameters/observation"]
    errs: list[str] = []
    name = call.get("name")
    if not isinstance(name, str) or not name:
        errs.append(f"{where}: 'name' must be a non-empty string")
        return errs
    params = call.get("parameters", {})
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            errs.append(f"{where}: 'parameters' is a string that is not JSON")
            return errs
    if not isinstance(params, dict):
        errs.append(f"{where}: 'parameters' must be an object, got {type(params).__name__}")
        return errs
    if "observation" not in call:
        errs.append(f"{where}: missing 'observation' (the tool's result)")
    if tools:
        if name not in tools:
            errs.append(f"{where}: calls {name!r}, which is not in 'tools' ({', '.join(sorted(tools))})")
        else:
            schema = tools[name].get("parameters")
            if isinstance(schema, dict):
                for e in jsonschema.Draft202012Validator(schema).iter_errors(params):
                    path = "/".join(str(p) for p in e.absolute_path)
                    errs.append(
                        f"{where}: arguments of {name!r} {('at ' + path + ' ') if path else ''}break its schema: {e.message}"
                    )
    return errs


def validate_sample(sample: Any) -> tuple[list[str], list[str]]:
    """Check one sample. Returns ``(errors, warnings)``; each names the message index.

    Role order (DESIGN.md §2): system only at the start; never two user messages in a
    row; an assistant message (or a ``tool`` call, which the model makes) only after a
    user, assistant or tool message; observations only after a call (implicit in ``tool``).
    """
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(sample, dict):
        return [f"a sample must be an object, got {type(sample).__name__}"], warnings
    conv = sample.get("conversations")
    if conv is None:
        hint = (
            " (OpenAI 'messages'? run `calltune data convert --from openai`)" if "messages" in sample else ""
        )
        return ["missing 'conversations'" + hint], warnings
    if not isinstance(conv, list) or not conv:
        return ["'conversations' must be a non-empty list"], warnings
    terr, tools = _check_tools(sample.get("tools"))
    errors.extend(terr)
    prev: str | None = None
    trained = 0
    for i, m in enumerate(conv):
        where = f"conversations[{i}]"
        if not isinstance(m, dict):
            errors.append(f"{where}: must be an object")
            prev = None
            continue
        role = m.get("role")
        if role not in ROLES:
            errors.append(f"{where}: unknown role {role!r} (expected one of {', '.join(ROLES)})")
            prev = None
            continue
        if "loss" in m and not isinstance(m["loss"], bool):
            errors.append(f"{where}: 'loss' must be true or false")
        if role != "tool":
            c = m.get("content")
            if not isinstance(c, str):
                errors.append(f"{where}: 'content' must be a string")
        if role == "system":
            if prev is not None:
                errors.append(f"{where}: a system message may only appear at the start")
        elif role == "user":
            if prev == "user":
                errors.append(f"{where}: two user messages in a row")
        else:  # assistant or tool: produced by the model
            if prev not in ("user", "assistant", "tool"):
                errors.append(f"{where}: an {role} message must follow a user, assistant or tool message")
        if role == "tool":
            if "calls" in m:
                calls = m["calls"]
                if not isinstance(calls, list) or not calls:
                    errors.append(f"{where}: 'calls' must be a non-empty list")
                    calls = []
                for j, call in enumerate(calls):
                    errors.extend(_check_call(f"{where}.calls[{j}]", call, tools))
            else:
                errors.extend(_check_call(where, m, tools))
        default_loss = role not in ("system", "user")
        if m.get("loss", default_loss):
            trained += 1
        prev = role
    if not errors:
        if trained == 0:
            warnings.append("no message is trained (nothing to learn from this sample)")
        last = conv[-1]
        if isinstance(last, dict) and last.get("role") == "user":
            warnings.append("the conversation ends with a user message (it is never trained)")
    return errors, warnings


@dataclass
class CheckReport:
    """The result of checking a set of records."""

    total: int = 0
    valid: int = 0
    issues: list[Issue] = field(default_factory=list)
    roles: Counter = field(default_factory=Counter)
    stats: Counter = field(default_factory=Counter)
    #: positions (in the checked sequence) of the invalid records
    invalid_positions: set[int] = field(default_factory=set)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def invalid(self) -> int:
        return self.total - self.valid

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "valid": self.valid,
            "invalid": self.invalid,
            "roles": dict(self.roles),
            "stats": dict(self.stats),
            "issues": [
                {"location": i.location, "severity": i.severity, "message": i.message} for i in self.issues
            ],
        }


def check_records(records: Sequence[Record]) -> CheckReport:
    """Validate every record; collect issues with ``file:line`` and statistics."""
    rep = CheckReport()
    for pos, r in enumerate(records):
        rep.total += 1
        errs, warns = validate_sample(r.sample)
        for e in errs:
            rep.issues.append(Issue(f"{r.location} (sample {r.index})", e))
        for w in warns:
            rep.issues.append(Issue(f"{r.location} (sample {r.index})", w, "warning"))
        if errs:
            rep.invalid_positions.add(pos)
            continue
        rep.valid += 1
        s = r.sample
        rep.stats["with_tools"] += bool(s.get("tools"))
        ncalls = 0
        for m in s["conversations"]:
            rep.roles[m["role"]] += 1
            if m["role"] == "tool":
                calls = tool_entries(m)
                ncalls += len(calls)
                if len(calls) > 1:
                    rep.stats["parallel_turns"] += 1
        rep.stats["tool_calls"] += ncalls
        rep.stats["no_call_samples"] += ncalls == 0
        rep.stats["messages"] += len(s["conversations"])
    return rep


def filter_valid(records: Sequence[Record], skip_invalid: bool = False) -> tuple[list[Record], CheckReport]:
    """Return the valid records. Without ``skip_invalid`` any invalid sample raises
    :class:`InvalidDataError` listing every problem; with it they are dropped and counted."""
    rep = check_records(records)
    if rep.invalid and not skip_invalid:
        raise InvalidDataError(rep)
    keep = [r for pos, r in enumerate(records) if pos not in rep.invalid_positions]
    return keep, rep


class InvalidDataError(CalltuneError, ValueError):
    def __init__(self, report: CheckReport, limit: int = 20):
        lines = [str(i) for i in report.errors[:limit]]
        more = len(report.errors) - limit
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__(
            f"{report.invalid} of {report.total} samples are invalid (use --skip-invalid to drop them):\n"
            + "\n".join(lines)
        )
        self.report = report
