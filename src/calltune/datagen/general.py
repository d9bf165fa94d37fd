"""General (non-tool) chat data for AgentTuning's η mixture: our requests, the teacher's answers.

The requests come from :mod:`calltune.datagen.general_requests` (written in code, nine kinds,
English and Chinese). Each request is first checked against BFCL (no teacher token is spent on
one that overlaps), then the teacher answers it (one system + user generation through calltune's
engine API, no tools, the same system prompt every time so the engine's prefix cache is hit),
and the answer goes through filters written in code, in this order:

============== =================================================================
``empty``       nothing but whitespace
``truncated``   the generation hit ``max_tokens`` (a cut-off answer teaches cutting off)
``too_short``   under ``min_chars`` characters (``min_chars_zh`` for a Chinese answer)
``too_long``    over ``max_chars``, or a summary no shorter than the text it summarises
``refusal``     the answer declines (every request is harmless, so any refusal is wrong)
``tool_markup`` a tool call any calltune chat format reads out of it, or a role marker
``language``    not in the language asked for (a translation's target, else the request's)
``wrong_answer`` a math word problem whose answer (computed in code) the reply never states
``duplicate``   the same or nearly the same answer (rapidfuzz) as one kept before
============== =================================================================

Output, under the output folder: ``kept.jsonl`` — seed-format samples (``user``, ``assistant``;
a ``system`` message only with ``keep_system``) with their ``id`` and ``meta``, read as they are
by ``calltune train --general kept.jsonl --eta 0.2`` (:mod:`calltune.train.mixing`) and valid
for ``calltune data check``; ``rejected.jsonl`` — each rejected request with its reason; and
``report.json`` — kept / rejected by reason, kind and language, teacher tokens, and the BFCL
check of ``kept.jsonl``. Both journals are appended one line per request, so a run that is
stopped resumes where it was (the same command again): requests whose id either file holds are
skipped (a line cut off by a kill is removed and its request done again), and dedupe starts
from the answers already kept.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import CalltuneError
from .decontam import DEFAULT_THRESHOLD, BfclIndex, check_records
from .filters import Dedupe
from .general_requests import GeneralRequest, build_requests
from .instructions import stable_seed
from .pipeline import Journal, Progress, read_jsonl
from .teacher import Teacher

#: one system prompt for every request (the engine's prefix cache keeps it)
SYSTEM = (
    "You are a helpful assistant. Answer the user's request directly and concisely, "
    "in the language the request asks for."
)
FILES = {"kept": "kept.jsonl", "rejected": "rejected.jsonl", "report": "report.json"}
PHASE = "general"

_REFUSAL = re.compile(
    r"\b(?:I(?:'m| am) (?:sorry|afraid)[^.\n]{0,40}\b(?:can(?:no|')t|unable|not able)"
    r"|I (?:cannot|can(?:no|')t|won't|am unable to|am not able to) (?:help|assist|provide|do|answer|comply|fulfil)"
    r"|as an AI(?: language model)?,? I (?:cannot|can't|don't|am not able))",
    re.IGNORECASE,
)
_REFUSAL_ZH = re.compile(
    r"(?:抱歉|对不起)[^。\n]{0,12}(?:无法|不能)|我(?:无法|不能)(?:帮助|回答|提供|完成)|作为(?:一个)?(?:AI|人工智能)[^。\n]{0,10}(?:无法|不能)"
)
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class GeneralError(CalltuneError, ValueError):
    """A general-data run that cannot start (bad settings)."""


@dataclass
class GeneralSettings:
    n: int = 100
    seed: int = 0
    zh_share: float = 0.3
    max_tokens: int = 384
    temperature: float = 0.0
    min_chars: int = 20
    min_chars_zh: int = 6
    max_chars: int = 4000
    #: near-duplicate answers: rapidfuzz ratio at or above this
    near_duplicate: float = 90.0
    threshold: float = DEFAULT_THRESHOLD
    keep_system: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------- the filters


def _markers() -> list[str]:
    from ..formats import get_format, list_formats

    marks: set[str] = {"<tool_call>", "</tool_call>"}
    for name in list_formats():
        fmt = get_format(name)
        marks.update(m for m in [*fmt.special_tokens, *fmt.stop] if m)
    return sorted(marks)


def tool_markup(answer: str) -> str | None:
    """What in ``answer`` is tool-call markup: a call a chat format parses out of it, or a role marker."""
    from ..formats import get_format, list_formats

    for mark in _markers():
        if mark in answer:
            return f"role marker {mark}"
    for name in list_formats():
        calls = get_format(name).parse(answer).tool_calls
        if calls:
            return f"a {name} tool call ({calls[0].name})"
    return None


def is_refusal(answer: str) -> bool:
    head = answer[:300]
    return bool(_REFUSAL.search(head) or _REFUSAL_ZH.search(head))


def answer_language_ok(answer: str, lang: str) -> bool:
    """Chinese: some Chinese characters; English: some Latin words and mostly not Chinese."""
    cjk = len(_CJK.findall(answer))
    if lang == "zh":
        return cjk >= 2
    latin = sum(len(w) for w in _LATIN_WORD.findall(answer))
    return latin >= 4 and cjk <= latin


def states_number(answer: str, value: float) -> bool:
    """Whether ``answer`` writes ``value`` (``1,200`` and ``1200.0`` count as 1200)."""
    for m in _NUMBER.findall(answer):
        try:
            if abs(float(m.replace(",", "")) - value) < 1e-6:
                return True
        except ValueError:
            continue
    return False


def check_answer(
    req: GeneralRequest, answer: str, finish_reason: str, s: GeneralSettings
) -> tuple[str, str] | None:
    """``(reason, detail)`` of the first filter that rejects ``answer`` (the dedupe excepted), or None."""
    text = answer.strip()
    if not text:
        return "empty", "no answer"
    if finish_reason == "length":
        return "truncated", f"hit max_tokens ({s.max_tokens})"
    floor = s.min_chars_zh if req.answer_lang == "zh" else s.min_chars
    if req.kind != "chat" and len(text) < floor:
        return "too_short", f"{len(text)} < {floor} characters"
    if len(text) > s.max_chars:
        return "too_long", f"{len(text)} > {s.max_chars} characters"
    if req.max_chars is not None and len(text) >= req.max_chars:
        return "too_long", f"a summary of {len(text)} characters for a text of {req.max_chars}"
    if is_refusal(text):
        return "refusal", text[:120]
    markup = tool_markup(text)
    if markup:
        return "tool_markup", markup
    if not answer_language_ok(text, req.answer_lang):
        return "language", f"not in {req.answer_lang}"
    if req.expect is not None and not states_number(text, req.expect):
        return "wrong_answer", f"never states {req.expect:g}"
    return None


# ---------------------------------------------------------------------------- the run


def kept_sample(req: GeneralRequest, answer: str, system: str | None) -> dict[str, Any]:
    """The seed-format sample of a kept answer (no tools)."""
    conv = [{"role": "system", "content": system}] if system else []
    conv += [{"role": "user", "content": req.text}, {"role": "assistant", "content": answer}]
    return {"id": req.id, "conversations": conv, "meta": {"kind": req.kind, "lang": req.lang}}


def _heal(path: Path) -> list[dict[str, Any]]:
    """The rows of a journal; a line cut off by a kill is removed from the file, so that
    ``kept.jsonl`` stays valid data for ``calltune train`` (its request is done again)."""
    rows = read_jsonl(path)
    if path.exists() and sum(
        1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ) != len(rows):
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, path)
    return rows


class GeneralRun:
    """One general-data run into ``out`` (resumable)."""

    def __init__(
        self,
        out: str | Path,
        teacher: Teacher,
        settings: GeneralSettings | None = None,
        index: BfclIndex | None = None,
        progress: Progress | None = None,
        requests: Sequence[GeneralRequest] | None = None,
    ):
        """``requests``: answer these instead of ``build_requests(settings.n, ...)``."""
        self.out = Path(out)
        self.teacher = teacher
        self.settings = settings or GeneralSettings()
        if not 0 <= self.settings.zh_share <= 1:
            raise GeneralError(f"zh_share must be in [0, 1], got {self.settings.zh_share}")
        self._index = index
        self.progress = progress or Progress()
        self._requests = list(requests) if requests is not None else None

    def path(self, name: str) -> Path:
        return self.out / FILES[name]

    def index(self) -> BfclIndex:
        if self._index is None:
            from .decontam import bfcl_index

            self._index = bfcl_index()
        return self._index

    def requests(self) -> list[GeneralRequest]:
        s = self.settings
        return self._requests if self._requests is not None else build_requests(s.n, s.seed, s.zh_share)

    def run(self) -> dict[str, Any]:
        """Answer and filter every request not done yet; write and return the report."""
        s = self.settings
        self.out.mkdir(parents=True, exist_ok=True)
        kept_rows, rejected_rows = _heal(self.path("kept")), _heal(self.path("rejected"))
        done = {r["id"] for r in kept_rows} | {r["id"] for r in rejected_rows}
        dedupe = Dedupe(s.near_duplicate)
        for r in kept_rows:
            dedupe.add(r["conversations"][-1]["content"])
        kept, rejected = Journal(self.path("kept")), Journal(self.path("rejected"))
        reqs = self.requests()
        todo = [r for r in reqs if r.id not in done]
        n_kept, n_rej = len(kept_rows), len(rejected_rows)
        self.progress.start(PHASE, len(reqs), len(reqs) - len(todo))
        t0 = time.perf_counter()
        for req in todo:
            row = self._one(req, dedupe)
            if "reason" in row:
                rejected.append(row)
                n_rej += 1
            else:
                kept.append(row)
                n_kept += 1
            self.progress.advance(PHASE, n_kept, n_rej)
        if self._requests is None and len(reqs) < s.n:
            self.progress.note(f"only {len(reqs)} distinct requests exist (asked for {s.n})")
        return self.write_report(time.perf_counter() - t0, len(todo))

    def _one(self, req: GeneralRequest, dedupe: Dedupe) -> dict[str, Any]:
        s = self.settings
        base = {"id": req.id, "kind": req.kind, "lang": req.lang, "request": req.text}
        overlap, case = self.index().request_overlap(req.text)
        if overlap > s.threshold:
            return {**base, "reason": "bfcl_overlap", "detail": f"{case} ({overlap:.2f})"}
        reply = self.teacher.ask(
            SYSTEM,
            req.text,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            seed=stable_seed(s.seed, req.id),
            purpose=PHASE,
        )
        answer = reply.text.strip()
        usage = reply.usage()
        verdict = check_answer(req, answer, reply.finish_reason, s)
        if verdict is None:
            dup = dedupe.duplicate_of(answer)
            if dup is not None:
                verdict = ("duplicate", f"answer duplicates {dup[:80]!r}")
        if verdict is not None:
            return {**base, "reason": verdict[0], "detail": verdict[1], "answer": answer, "usage": usage}
        dedupe.add(answer)
        sample = kept_sample(req, answer, SYSTEM if s.keep_system else None)
        sample["meta"]["usage"] = usage
        return sample

    def write_report(self, seconds: float = 0.0, answered: int = 0) -> dict[str, Any]:
        """The report over both journals (earlier runs into this folder included)."""
        kept_rows, rejected_rows = read_jsonl(self.path("kept")), read_jsonl(self.path("rejected"))
        dec = check_records(kept_rows, self.settings.threshold, index=self.index())
        by: Counter[str] = Counter()
        for r in kept_rows:
            by[f"{r['meta']['kind']}/{r['meta']['lang']}"] += 1
        tokens = Counter()
        for r in [
            *(k["meta"].get("usage", {}) for k in kept_rows),
            *(r.get("usage", {}) for r in rejected_rows),
        ]:
            for k in ("prompt_tokens", "completion_tokens"):
                tokens[k] += int(r.get(k, 0))
        report = {
            "settings": self.settings.to_dict(),
            "teacher": self.teacher.model_id,
            "kept": len(kept_rows),
            "rejected": len(rejected_rows),
            "rejected_by_reason": dict(Counter(r["reason"] for r in rejected_rows).most_common()),
            "kept_by_kind_lang": dict(sorted(by.items())),
            "teacher_tokens": dict(tokens),
            "this_run": {"answered": answered, "seconds": round(seconds, 1)},
            "decontam": dec.to_dict(),
        }
        self.path("report").write_text(
            json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        dec.raise_if_contaminated()
        return report


def generate_general(
    out: str | Path,
    teacher: Teacher,
    settings: GeneralSettings | None = None,
    index: BfclIndex | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build (or resume) a general-data set in ``out``; returns the report."""
    return GeneralRun(out, teacher, settings, index, progress).run()


__all__ = [
    "SYSTEM",
    "GeneralError",
    "GeneralRun",
    "GeneralSettings",
    "answer_language_ok",
    "check_answer",
    "generate_general",
    "is_refusal",
    "kept_sample",
    "states_number",
    "tool_markup",
]
