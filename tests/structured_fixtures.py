"""Shared fixtures of the structured-output tests: response schemas with valid and invalid
documents, and an engine that stands in for a constrained model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calltune.engines import Chunk, EngineError, SamplingParams, ScriptedEngine

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "email": {"type": "string", "format": "email"},
        "role": {"enum": ["admin", "user", "guest"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
            "required": ["city", "zip"],
            "additionalProperties": False,
        },
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["name", "age", "role", "address"],
    "additionalProperties": False,
}
PERSON_FORMAT = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
PERSON_OK = {"name": "Ann", "age": 31, "role": "admin", "address": {"city": "Lyon", "zip": "69001"}}
# the grammar writes properties in the schema's order (a subset of the documents it allows)
PERSON_FULL = {
    "name": "Ann",
    "age": 31,
    "email": "ann@example.org",
    "role": "admin",
    "tags": ["a", "b"],
    "address": {"city": "Lyon", "zip": "69001"},
    "score": 0.5,
    "nickname": None,
}
# (document, why the schema rejects it): each breaks one rule
PERSON_BAD = [
    ({k: v for k, v in PERSON_OK.items() if k != "age"}, "missing required"),
    ({**PERSON_OK, "age": 200}, "integer above maximum"),
    ({**PERSON_OK, "age": 3.5}, "number where integer"),
    ({**PERSON_OK, "role": "root"}, "not in the enum"),
    ({**PERSON_OK, "name": "A name far too long"}, "string over maxLength"),
    ({**PERSON_OK, "address": {"city": "Lyon", "zip": "6900"}}, "pattern"),
    ({**PERSON_OK, "address": {"city": "Lyon"}}, "nested required"),
    ({**PERSON_OK, "tags": []}, "array under minItems"),
    ({**PERSON_OK, "score": 1.5}, "number above maximum"),
    ({**PERSON_OK, "email": "not-an-email"}, "format"),
    ({**PERSON_OK, "extra": 1}, "additional property"),
]


class PickingEngine(ScriptedEngine):
    """Stands in for a constrained model: of its ``candidates`` it writes the first one the
    request's grammar allows (every candidate is allowed without a constraint), streamed in
    small chunks like the scripted engine. The constraints it was given are in ``constraints``."""

    supports_constraints = True

    def __init__(self, candidates: list[str], **kw: Any) -> None:
        super().__init__(candidates, **kw)
        self.candidates = list(candidates)

    def stream(
        self, prompt: str | list[int], params: SamplingParams, constraint: Any = None
    ) -> Iterator[Chunk]:
        allowed = [c for c in self.candidates if constraint is None or constraint.matches(c)]
        if not allowed:
            raise EngineError("no candidate is allowed by the grammar")
        self.outputs, self._i = [allowed[0]], 0
        return super().stream(prompt, params, constraint)
