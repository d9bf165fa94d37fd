"""Decontamination: how much of generated data overlaps BFCL, which is for measurement only.

This is the one datagen module that reads BFCL's data, and it reads it only to measure
overlap; nothing it reads is written anywhere. :func:`bfcl_index` collects, from the
installed ``bfcl_eval`` package, every user text of every question file (single-turn,
live, irrelevance, every multi-turn user turn, memory and its prerequisite conversations,
web search, and the unused datasets the package still ships; format sensitivity reuses the
single-turn ids) and every function name (the single-turn docs, the multi-turn function docs
and the public methods of the multi-turn classes, read from their source with ``ast``).

**The overlap measure.** A text is normalised (NFKC, lowercase) and split into tokens: each
CJK character (Chinese, Japanese kana) is one token, any other run of letters and digits is
one token, everything else (punctuation, spaces, ``_``) separates tokens. A text's overlap
with a BFCL question is the fraction of the text's distinct token ``N``-grams (``N = 8``)
that occur in that question; :meth:`BfclIndex.request_overlap` returns the maximum over all
questions and that question's case id. Chinese text is thus compared by character 8-grams.
A text shorter than ``N`` tokens (``k < N``) has no ``N``-gram: it scores ``k / N`` when its
tokens occur in a BFCL question in a row (the whole question or inside one), else 0 — a
short text is weaker evidence of copying than an ``N``-gram (``"What can you do?"`` is a
whole BFCL question and scores 0.5, a copied 7-token question 0.875).
BFCL questions are inverted-indexed by ``N``-gram hash, so a check costs one dictionary
look-up per ``N``-gram of the text.

Tool names are compared after :func:`normalize_name` (lowercase, the last dotted component,
letters and digits only); a BFCL name counts both whole and by its last dotted component,
so ``geometry.area_circle`` rules out ``area_circle`` as well.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import CalltuneError

#: the n-gram length of the overlap measure (tokens: words, or CJK characters)
NGRAM = 8
#: the overlap above which generated data counts as contaminated
DEFAULT_THRESHOLD = 0.5

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_NOT_ALNUM = re.compile(r"[\W_]+")


class ContaminationError(CalltuneError, ValueError):
    """Data that overlaps BFCL above the threshold (or uses a BFCL function name)."""

    def __init__(self, report: DecontamReport):
        self.report = report
        super().__init__(report.summary())


def tokens(text: str) -> list[str]:
    """The tokens the overlap is measured on (see the module docstring)."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def normalize_name(name: str) -> str:
    """``"Finance.Get_Stock-Price"`` → ``"getstockprice"`` (last dotted component, letters and digits)."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", name).split(".")[-1].lower())


def _gram_hashes(toks: list[str], n: int = NGRAM) -> set[int]:
    return {hash(" ".join(toks[i : i + n])) for i in range(len(toks) - n + 1)}


class OverlapCase(NamedTuple):
    """One checked text and the BFCL question it overlaps most."""

    record: str
    text: str
    bfcl_id: str | None
    overlap: float

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "text": self.text, "bfcl_id": self.bfcl_id, "overlap": self.overlap}


class BfclIndex:
    """BFCL's user texts (inverted n-gram index) and function names, for overlap checks."""

    def __init__(self, questions: Iterable[tuple[str, str]], function_names: Iterable[str]):
        """``questions``: ``(case id, user text)`` pairs; ``function_names``: BFCL's names."""
        self.case_ids: list[str] = []
        self._docs: dict[str, int] = {}  # normalised whole text -> doc index (first case id wins)
        self._postings: dict[int, list[int]] = {}
        self.n_texts = 0
        for cid, text in questions:
            self.n_texts += 1
            toks = tokens(text)
            if not toks:
                continue
            key = " ".join(toks)
            if key in self._docs:
                continue
            doc = len(self.case_ids)
            self._docs[key] = doc
            self.case_ids.append(cid)
            for h in _gram_hashes(toks):
                self._postings.setdefault(h, []).append(doc)
        # token-aligned containment of short texts: one string " a b c \n d e \n ..." searched with find
        keys = list(self._docs)
        self._joined = "".join(f" {k} \n" for k in keys)
        self._starts: list[int] = []
        pos = 0
        for k in keys:
            self._starts.append(pos)
            pos += len(k) + 3
        self.names: set[str] = set()
        for name in function_names:
            for form in (normalize_name(name), _NOT_ALNUM.sub("", name.lower())):
                if form:
                    self.names.add(form)

    @property
    def n_questions(self) -> int:
        """Distinct normalised BFCL user texts in the index."""
        return len(self.case_ids)

    def request_overlap(self, text: str) -> tuple[float, str | None]:
        """``(overlap, case id)``: the largest fraction of ``text``'s n-grams found in one BFCL
        question, and that question's case id (``(0.0, None)`` when nothing overlaps)."""
        toks = tokens(text)
        if not toks:
            return 0.0, None
        if len(toks) < NGRAM:
            return self._short_overlap(toks)
        grams = _gram_hashes(toks)
        counts: Counter[int] = Counter()
        for h in grams:
            docs = self._postings.get(h)
            if docs:
                counts.update(docs)
        if not counts:
            return 0.0, None
        doc, hits = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
        return hits / len(grams), self.case_ids[doc]

    def _short_overlap(self, toks: list[str]) -> tuple[float, str | None]:
        key = " ".join(toks)
        doc = self._docs.get(key)  # a whole question first, for its case id
        if doc is not None:
            return len(toks) / NGRAM, self.case_ids[doc]
        at = self._joined.find(f" {key} ")
        if at < 0:
            return 0.0, None
        return len(toks) / NGRAM, self.case_ids[bisect_right(self._starts, at) - 1]

    def name_hits(self, names: Iterable[str]) -> list[str]:
        """The names (as given, in order, once each) whose normalised form is a BFCL function name."""
        out: list[str] = []
        for name in names:
            if name not in out and normalize_name(name) in self.names:
                out.append(name)
        return out


# ---------------------------------------------------------------------------- reading BFCL


def _json_objects(path: Path) -> Iterator[Any]:
    """Every JSON value of a file: JSONL, several objects on a line, or one document."""
    text = path.read_text(encoding="utf-8")
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return
        obj, i = dec.raw_decode(text, i)
        yield obj


def _user_texts(question: Any) -> Iterator[str]:
    """User texts of a ``question`` field: a string, a message, or nested lists of them."""
    if isinstance(question, str):
        yield question
    elif isinstance(question, dict):
        if question.get("role", "user") == "user" and isinstance(question.get("content"), str):
            yield question["content"]
    elif isinstance(question, list):
        for q in question:
            yield from _user_texts(q)


def _function_names(functions: Any) -> Iterator[str]:
    if isinstance(functions, dict):
        functions = [functions]
    for f in functions or []:
        if isinstance(f, dict):
            f = f.get("function", f)
            if isinstance(f.get("name"), str):
                yield f["name"]


def _class_methods(source: Path) -> Iterator[str]:
    """Public method names of the classes in a multi-turn backend's source (parsed, never run)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith(
                    "_"
                ):
                    yield item.name


def _read_bfcl(data_dir: Path) -> tuple[list[tuple[str, str]], list[str]]:
    questions: list[tuple[str, str]] = []
    names: list[str] = []
    files = sorted(data_dir.glob("BFCL_*.json")) + sorted(
        (data_dir / "memory_prereq_conversation").glob("*.json")
    )
    files += sorted((data_dir / "unused_datasets" / "question").glob("*.json"))
    for path in files:
        for i, row in enumerate(_json_objects(path)):
            if not isinstance(row, dict) or "question" not in row:
                continue  # format_sensitivity: a map of category -> ids of cases indexed already
            cid = str(row.get("id") or f"{path.stem}_{i}")
            questions.extend((cid, t) for t in _user_texts(row["question"]))
            names.extend(_function_names(row.get("function")))
    for path in sorted((data_dir / "multi_turn_func_doc").glob("*.json")):
        for doc in _json_objects(path):
            names.extend(_function_names(doc))
    source_dir = data_dir.parent / "eval_checker" / "multi_turn_eval" / "func_source_code"
    for path in sorted(source_dir.glob("*.py")):
        names.extend(_class_methods(path))
    return questions, names


@lru_cache(maxsize=4)
def _cached_index(data_dir: str) -> BfclIndex:
    questions, names = _read_bfcl(Path(data_dir))
    if not questions:
        raise CalltuneError(f"no BFCL questions found under {data_dir}")
    return BfclIndex(questions, names)


def bfcl_index(data_dir: str | Path | None = None) -> BfclIndex:
    """The index of the installed ``bfcl_eval`` package's data (or of ``data_dir``), built once."""
    from ..eval.bfcl_data import bfcl_data_dir

    d = Path(data_dir) if data_dir is not None else bfcl_data_dir()
    return _cached_index(str(d.resolve()))


# ---------------------------------------------------------------------------- checking records


@dataclass
class DecontamReport:
    """The overlap of a set of seed-format records with BFCL."""

    threshold: float
    records: int = 0
    texts: int = 0
    max_overlap: float = 0.0
    #: the checked text with the largest overlap (None when no text overlaps at all)
    max_case: OverlapCase | None = None
    #: every text above the threshold, largest overlap first
    over_threshold: list[OverlapCase] = field(default_factory=list)
    #: tool names (offered or called) that are BFCL function names, and the first record of each
    name_hits: list[str] = field(default_factory=list)
    name_hit_records: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.max_overlap <= self.threshold and not self.name_hits

    def summary(self) -> str:
        s = f"{self.records} records, {self.texts} user texts: max BFCL overlap {self.max_overlap:.3f}"
        if self.max_case is not None:
            s += f" ({self.max_case.record} ~ {self.max_case.bfcl_id})"
        s += f", {len(self.over_threshold)} above {self.threshold}"
        if self.name_hits:
            s += f"; BFCL function names: {', '.join(self.name_hits)}"
        return s

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "ok": self.ok,
            "records": self.records,
            "texts": self.texts,
            "max_overlap": round(self.max_overlap, 4),
            "max_case": self.max_case.to_dict() if self.max_case else None,
            "over_threshold": [c.to_dict() for c in self.over_threshold],
            "name_hits": [{"name": n, "record": self.name_hit_records[n]} for n in self.name_hits],
        }

    def raise_if_contaminated(self) -> None:
        """Raise :class:`ContaminationError` unless :attr:`ok`."""
        if not self.ok:
            raise ContaminationError(self)


def _record_id(rec: Any, pos: int) -> tuple[str, Any]:
    """``(id, sample)`` of a seed-format dict or a :class:`calltune.train.data.Record`."""
    sample = getattr(rec, "sample", rec)
    rid = sample.get("id") if isinstance(sample, dict) else None
    if rid is None:
        rid = getattr(rec, "location", None) or f"#{pos}"
    return str(rid), sample


def _sample_names(sample: dict[str, Any]) -> Iterator[str]:
    yield from _function_names(sample.get("tools"))
    for m in sample.get("conversations") or []:
        if isinstance(m, dict) and m.get("role") == "tool":
            for c in m.get("calls") or [m]:
                if isinstance(c, dict) and isinstance(c.get("name"), str):
                    yield c["name"]


def check_records(
    records: Iterable[Any], threshold: float = DEFAULT_THRESHOLD, index: BfclIndex | None = None
) -> DecontamReport:
    """Check every user message and tool name of seed-format ``records`` (dicts or
    :class:`~calltune.train.data.Record`) against BFCL."""
    idx = index or bfcl_index()
    rep = DecontamReport(threshold=threshold)
    for pos, rec in enumerate(records):
        rid, sample = _record_id(rec, pos)
        rep.records += 1
        if not isinstance(sample, dict):
            continue
        for m in sample.get("conversations") or []:
            if not (isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str)):
                continue
            rep.texts += 1
            overlap, cid = idx.request_overlap(m["content"])
            case = OverlapCase(rid, m["content"], cid, round(overlap, 4))
            if cid is not None and (rep.max_case is None or overlap > rep.max_overlap):
                rep.max_overlap, rep.max_case = overlap, case
            if overlap > threshold:
                rep.over_threshold.append(case)
        for name in idx.name_hits(_sample_names(sample)):
            if name not in rep.name_hit_records:
                rep.name_hits.append(name)
                rep.name_hit_records[name] = rid
    rep.over_threshold.sort(key=lambda c: -c.overlap)
    return rep


__all__ = [
    "DEFAULT_THRESHOLD",
    "NGRAM",
    "BfclIndex",
    "ContaminationError",
    "DecontamReport",
    "OverlapCase",
    "bfcl_index",
    "check_records",
    "normalize_name",
    "tokens",
]
