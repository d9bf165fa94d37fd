"""OpenAI's ``response_format`` as a type, parsed once, and the instruction that goes with it.

A :class:`ResponseFormat` says that the content of an answer is one JSON value: an object
that follows a JSON Schema (``json_schema``) or any JSON object (``json_object``).
``{"type": "text"}`` (the default) is no response format: :func:`parse_response_format`
returns None for it. The schema is enforced by guided decoding (the turn's policy builds the
grammar, :mod:`calltune.turn.policy`); the model is also told the schema in the system
message (:func:`response_instruction`), so that the values it chooses mean something.

Spellings accepted by :func:`parse_response_format`: OpenAI's request field
(``{"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}``,
``{"type": "json_object"}``, ``{"type": "text"}``), a :class:`ResponseFormat`, and a pydantic
model class (its ``model_json_schema()``, as ``openai``'s ``parse(response_format=Model)``).
:func:`schema_response_format` reads the contents of a ``--schema`` file: a bare JSON Schema,
the ``json_schema`` part, or a whole ``response_format``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema

from ..errors import CalltuneError

#: OpenAI's rule for ``json_schema.name``
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ANY_OBJECT: dict[str, Any] = {"type": "object"}


class ResponseFormatError(CalltuneError, ValueError):
    """A ``response_format`` that is malformed or whose schema is not a valid JSON Schema."""

    code = "invalid_response_format"


class ResponseFormatUnsupportedError(ResponseFormatError):
    """A ``response_format`` this engine cannot enforce (it has no guided decoding), or a schema
    keyword the grammar cannot enforce."""

    code = "unsupported_response_format"


@dataclass(frozen=True)
class ResponseFormat:
    """The answer's content is one JSON value that follows ``schema``."""

    type: Literal["json_object", "json_schema"]
    schema: dict[str, Any] = field(default_factory=lambda: dict(ANY_OBJECT))
    name: str = "response"
    strict: bool | None = None
    description: str | None = None

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI request spelling."""
        if self.type == "json_object":
            return {"type": "json_object"}
        spec: dict[str, Any] = {"name": self.name, "schema": copy.deepcopy(self.schema)}
        if self.strict is not None:
            spec["strict"] = self.strict
        if self.description:
            spec["description"] = self.description
        return {"type": "json_schema", "json_schema": spec}


def response_instruction(rf: ResponseFormat) -> str:
    """What the system message tells the model about the answer's shape."""
    plain = "and nothing else (no prose, no code fence)"
    if rf.type == "json_object":
        return f"When you answer, reply with a JSON object {plain}."
    about = f" ({rf.description})" if rf.description else ""
    schema = json.dumps(rf.schema, ensure_ascii=False)
    return (
        f"When you answer, reply with JSON that follows the JSON Schema `{rf.name}`{about} {plain}:\n{schema}"
    )


def with_response_instruction(
    messages: list[dict[str, Any]], rf: ResponseFormat | None
) -> list[dict[str, Any]]:
    """``messages`` with :func:`response_instruction` appended to the system message (one is put
    first when there is none). Unchanged when ``rf`` is None."""
    if rf is None:
        return messages
    text = response_instruction(rf)
    out = copy.deepcopy(messages)
    if out and out[0].get("role") == "system" and isinstance(out[0].get("content"), str | None):
        head = out[0].get("content") or ""
        out[0]["content"] = f"{head}\n\n{text}" if head else text
    else:
        out.insert(0, {"role": "system", "content": text})
    return out


def check_schema(schema: Any, where: str = "schema") -> dict[str, Any]:
    """``schema`` when it is a valid JSON Schema object (:class:`ResponseFormatError` otherwise)."""
    if not isinstance(schema, dict):
        raise ResponseFormatError(f"{where} must be a JSON Schema object, got {type(schema).__name__}")
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path)
        at = f" at '{path}'" if path else ""
        raise ResponseFormatError(f"{where} is not a valid JSON Schema{at}: {exc.message}") from None
    except RecursionError:
        raise ResponseFormatError(f"{where} is nested too deeply") from None
    return schema


def _from_pydantic(model: type) -> ResponseFormat:
    schema = model.model_json_schema()  # type: ignore[attr-defined]
    name = model.__name__ if _NAME.match(model.__name__) else "response"
    return ResponseFormat("json_schema", check_schema(schema), name=name, strict=True)


def _is_pydantic_model(value: Any) -> bool:
    return isinstance(value, type) and callable(getattr(value, "model_json_schema", None))


def _json_schema_part(spec: Any, where: str) -> ResponseFormat:
    if not isinstance(spec, dict):
        raise ResponseFormatError(f"'{where}' must be an object with 'name' and 'schema'")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ResponseFormatError(
            f"'{where}.name' is required: letters, digits, '_' and '-', at most 64 characters"
        )
    schema = check_schema(spec.get("schema", ANY_OBJECT), f"'{where}.schema'")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise ResponseFormatError(f"'{where}.strict' must be a boolean")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise ResponseFormatError(f"'{where}.description' must be a string")
    return ResponseFormat("json_schema", copy.deepcopy(schema), name, strict, description)


def parse_response_format(value: Any) -> ResponseFormat | None:
    """The :class:`ResponseFormat` for ``value`` (None for no value and for ``{"type": "text"}``).
    Raises :class:`ResponseFormatError` for anything else."""
    if value is None or isinstance(value, ResponseFormat):
        return value
    if _is_pydantic_model(value):
        return _from_pydantic(value)
    if not isinstance(value, dict):
        raise ResponseFormatError(
            f'\'response_format\' must be an object such as {{"type": "json_object"}}, got {value!r}'[:300]
        )
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind == "json_schema":
        if "json_schema" not in value:
            raise ResponseFormatError("'response_format.json_schema' is required for type 'json_schema'")
        return _json_schema_part(value["json_schema"], "response_format.json_schema")
    raise ResponseFormatError(
        f"unknown 'response_format.type' {kind!r}; expected 'text', 'json_object' or 'json_schema'"
    )


def schema_response_format(doc: Any, name: str = "response") -> ResponseFormat:
    """The :class:`ResponseFormat` of a schema document: a whole ``response_format`` object, its
    ``json_schema`` part (``name`` + ``schema``), or a bare JSON Schema (named ``name``)."""
    if isinstance(doc, dict) and doc.get("type") in ("json_schema", "json_object", "text"):
        rf = parse_response_format(doc)
        if rf is None:
            raise ResponseFormatError("a schema file of type 'text' asks for no JSON answer")
        return rf
    if isinstance(doc, dict) and isinstance(doc.get("schema"), dict) and "name" in doc:
        return _json_schema_part(doc, "json_schema")
    return ResponseFormat("json_schema", copy.deepcopy(check_schema(doc)), name=name)
