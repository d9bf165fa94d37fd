"""JSON Schema → EBNF for *Python literals* (ChatGLM3's ``tool_call(k=v, ...)`` syntax).

ChatGLM3 writes a call's arguments as Python keyword arguments whose values are
Python literals (``'beijing'``, ``3``, ``2.5``, ``True``, ``None``, ``[1, 2]``,
``{'k': 'v'}``). xgrammar builds JSON grammars from a schema but not Python ones, so
this module writes the EBNF itself; xgrammar compiles and enforces it.

What the grammar enforces: types (string / integer / number / boolean / null /
array / object), ``enum`` and ``const``, ``required`` (present) vs optional (may be
left out) properties in the schema's declared order, nested objects (as dict
literals with quoted keys) and arrays (``items``, ``prefixItems``, ``minItems``,
``maxItems``), unions (``anyOf`` / ``oneOf`` / type lists / ``nullable``),
``$ref`` to ``$defs``/``definitions``, string ``minLength``/``maxLength``.
Not enforced (accepted as the plain type): ``pattern``, ``format``, numeric ranges,
``allOf`` with more than one member. Strings may use single or double quotes.
Numbers have at most 19 integer digits, 17 fraction digits and a 3-digit
exponent (so a model cannot run away writing digits). Extra properties are never generated (strict). Whitespace is limited to one
optional space after ``,`` and ``:`` so a small model cannot loop on blanks.

Strings end with a lookahead assertion (the next character closes or separates the
value), as xgrammar's own JSON grammar does: without it xgrammar cannot precompute
which tokens may close a string, and the mask inside a string costs ~100 ms per token
on a 151k vocabulary instead of well under 1 ms.
"""

from __future__ import annotations

import json
import keyword
from typing import Any

from .errors import GuidedError

_BASE_RULES = r"""
py_ws ::= " "?
py_sep ::= "," " "?
py_esc ::= "\\" ( ["'\\abfnrtv0] | "x" py_hex py_hex | "u" py_hex py_hex py_hex py_hex )
py_hex ::= [0-9a-fA-F]
py_sq_char ::= [^'\\\n\r] | py_esc
py_dq_char ::= [^"\\\n\r] | py_esc
py_str ::= "'" py_sq_rest | "\"" py_dq_rest
py_sq_rest ::= ( "'" | [^'\\\n\r] py_sq_rest | py_esc py_sq_rest ) (= [ ,)\]}:])
py_dq_rest ::= ( "\"" | [^"\\\n\r] py_dq_rest | py_esc py_dq_rest ) (= [ ,)\]}:])
py_int ::= "-"? ("0" | [1-9] [0-9]{0,18})
py_num ::= py_int ("." [0-9]{1,17})? ([eE] [+-]? [0-9]{1,3})?
py_bool ::= "True" | "False"
py_none ::= "None"
py_any ::= py_str | py_num | py_bool | py_none | py_any_list | py_any_dict
py_any_list ::= "[" py_ws ( py_any ( py_sep py_any )* )? py_ws "]"
py_any_dict ::= "{" py_ws ( py_any_pair ( py_sep py_any_pair )* )? py_ws "}"
py_any_pair ::= py_str py_ws ":" py_ws py_any
"""


#: lookahead after a string: what may follow a value in a call, list, tuple or dict
_AFTER_VALUE = "(= [ ,)\\]}:])"


def ebnf_literal(text: str) -> str:
    """``text`` as an EBNF string literal (double-quoted, escaped)."""
    out = ['"']
    for ch in text:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def python_spellings(value: Any) -> list[str]:
    """The ways a model may write the literal ``value`` in Python (each must round-trip
    through ``ast.literal_eval``): ``repr`` and, for strings, the double-quoted JSON form."""
    if isinstance(value, str):
        forms = [repr(value)]
        dq = json.dumps(value, ensure_ascii=False)
        if dq not in forms:
            forms.append(dq)
        return forms
    if value is None or isinstance(value, bool):
        return [repr(value)]
    if isinstance(value, int | float):
        return [repr(value)]
    if isinstance(value, list | dict):
        return [repr(value)]
    raise GuidedError(f"enum/const value {value!r} has no Python literal form")


class PyLiteralGrammar:
    """Builds EBNF rules for Python literals from JSON Schemas (one instance per grammar)."""

    def __init__(self, prefix: str = "py"):
        self.prefix = prefix
        self.rules: dict[str, str] = {}
        self._n = 0
        self._root: dict[str, Any] = {}
        self._refs: dict[str, str] = {}

    # -- public -----------------------------------------------------------------------

    def kwargs_rule(self, schema: dict[str, Any]) -> str:
        """A rule for the keyword-argument list of ``tool_call(...)`` (without the parens)."""
        self._root = schema
        if schema.get("type", "object") != "object":
            raise GuidedError(f"tool parameters must be an object schema, got type {schema.get('type')!r}")
        props: dict[str, Any] = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        unknown = required - set(props)
        if unknown:
            raise GuidedError(f"required properties not in 'properties': {sorted(unknown)}")
        items: list[tuple[str, bool]] = []
        extra: list[tuple[str, bool]] = []
        for name, sub in props.items():
            value = self.value_rule(sub)
            if name.isidentifier() and not keyword.iskeyword(name):
                items.append((f"{ebnf_literal(name + '=')} {value}", name in required))
            else:  # written as one ``**{'from': ...}`` dict, as formats.pyliteral renders it
                key = self._alts(python_spellings(name))
                extra.append((f'( {key} ) py_ws ":" py_ws {value}', name in required))
        if extra:
            inner = self._sequence_rule(extra)
            if any(req for _, req in extra):
                items.append((f'"**{{" py_ws {inner} py_ws "}}"', True))
            else:  # optional, but never an empty ``**{}``
                nonempty = self._sequence_rule([(item, i == 0) for i, (item, _) in enumerate(extra)])
                alts = [nonempty]
                for j in range(1, len(extra)):
                    alts.append(
                        self._sequence_rule([(it, k == j) for k, (it, _) in enumerate(extra) if k >= j])
                    )
                body = " | ".join(f'( "**{{" py_ws {a} py_ws "}}" )' for a in alts)
                items.append((self._add("kwextra", body), False))
        return self._sequence_rule(items)

    def ebnf(self, root_body: str, root_name: str = "root") -> str:
        """The whole grammar: ``root ::= root_body`` plus every rule built so far."""
        lines = [f"{root_name} ::= {root_body}"]
        lines += [f"{k} ::= {v}" for k, v in self.rules.items()]
        return "\n".join(lines) + "\n" + _BASE_RULES

    # -- helpers ----------------------------------------------------------------------

    def _new(self, hint: str) -> str:
        self._n += 1
        return f"{self.prefix}_{hint}_{self._n}"

    def _add(self, hint: str, body: str) -> str:
        name = self._new(hint)
        self.rules[name] = body
        return name

    def _sequence_rule(self, items: list[tuple[str, bool]]) -> str:
        """Comma-separated items in order; required items must appear, optional ones may be
        left out. Two rules per position: ``first`` (no leading comma) and ``rest``."""
        if not items:
            return self._add("empty", '""')
        n = len(items)
        first_names = [self._new("first") for _ in range(n)] + ['""']
        rest_names = [self._new("rest") for _ in range(n)] + ['""']
        for i, (item, req) in enumerate(items):
            first_alts = [f"{item} {rest_names[i + 1]}"]
            rest_alts = [f"py_sep {item} {rest_names[i + 1]}"]
            if not req:
                first_alts.append(first_names[i + 1])
                rest_alts.append(rest_names[i + 1])
            self.rules[first_names[i]] = " | ".join(f"( {a} )" for a in first_alts)
            self.rules[rest_names[i]] = " | ".join(f"( {a} )" for a in rest_alts)
        return first_names[0]

    def _resolve_ref(self, ref: str) -> str:
        if ref in self._refs:
            return self._refs[ref]
        if not ref.startswith("#/"):
            raise GuidedError(f"only local $ref is supported, got {ref!r}")
        node: Any = self._root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise GuidedError(f"$ref {ref!r} does not resolve in the tool schema")
            node = node[part]
        name = self._new("ref")
        self._refs[ref] = name
        self.rules[name] = '""'  # placeholder; allows recursive schemas
        self.rules[name] = self._body(node)
        return name

    def value_rule(self, schema: Any) -> str:
        """The name of a rule (or an inline expression) for a value of ``schema``."""
        body = self._body(schema)
        if body.replace("_", "").isalnum():  # already a rule name
            return body
        return self._add("v", body)

    def _body(self, s: Any) -> str:
        if s is True or s is None or s == {}:
            return "py_any"
        if s is False:
            raise GuidedError("a schema of `false` admits no value")
        if not isinstance(s, dict):
            raise GuidedError(f"not a JSON schema: {s!r}")
        if "$ref" in s:
            return self._resolve_ref(s["$ref"])
        if "const" in s:
            return self._alts(python_spellings(s["const"]))
        if "enum" in s:
            if not s["enum"]:
                raise GuidedError("empty enum admits no value")
            forms: list[str] = []
            for v in s["enum"]:
                forms += python_spellings(v)
            return self._alts(forms)
        for key in ("anyOf", "oneOf"):
            if key in s:
                base = {k: v for k, v in s.items() if k != key}
                alts = [self.value_rule({**base, **sub} if isinstance(sub, dict) else sub) for sub in s[key]]
                return " | ".join(alts)
        if "allOf" in s:
            members = s["allOf"]
            base = {k: v for k, v in s.items() if k != "allOf"}
            if len(members) == 1 and isinstance(members[0], dict):
                return self._body({**base, **members[0]})
            return self._body(base) if base else "py_any"
        t = s.get("type")
        if isinstance(t, list):
            return " | ".join(self.value_rule({**s, "type": x}) for x in t)
        if t is None:
            if "properties" in s:
                t = "object"
            elif "items" in s or "prefixItems" in s:
                t = "array"
            else:
                return "py_any"
        if t == "string":
            lo, hi = s.get("minLength"), s.get("maxLength")
            if lo is None and hi is None:
                return "py_str"
            rep = f"{{{int(lo or 0)},{'' if hi is None else int(hi)}}}"
            body = f'( "\'" py_sq_char{rep} "\'" | "\\"" py_dq_char{rep} "\\"" ) {_AFTER_VALUE}'
            return self._add("str", body)
        if t == "integer":
            return "py_int"
        if t == "number":
            return "py_num"
        if t == "boolean":
            return "py_bool"
        if t == "null":
            return "py_none"
        if t == "array":
            return self._array(s)
        if t == "object":
            return self._object(s)
        raise GuidedError(f"unsupported JSON-schema type {t!r}")

    def _alts(self, forms: list[str]) -> str:
        seen: list[str] = []
        for f in forms:
            lit = ebnf_literal(f)
            if lit not in seen:
                seen.append(lit)
        return " | ".join(seen)

    def _array(self, s: dict[str, Any]) -> str:
        prefix = s.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            parts = [self.value_rule(p) for p in prefix]
            inner = " py_sep ".join(parts)
            return f'"[" py_ws {inner} py_ws "]" | "(" py_ws {inner} py_ws ")"'
        item = self.value_rule(s.get("items", True))
        lo = int(s.get("minItems") or 0)
        hi = s.get("maxItems")
        if hi is not None and int(hi) == 0:
            return '"[" py_ws "]"'
        if hi is None:
            more = f"( py_sep {item} ){{{max(lo - 1, 0)},}}"
        else:
            more = f"( py_sep {item} ){{{max(lo - 1, 0)},{int(hi) - 1}}}"
        seq = f"{item} {more}"
        if lo == 0:
            return f'"[" py_ws ( {seq} )? py_ws "]"'
        return f'"[" py_ws {seq} py_ws "]"'

    def _object(self, s: dict[str, Any]) -> str:
        props: dict[str, Any] = s.get("properties") or {}
        if not props:
            extra = s.get("additionalProperties", True)
            if extra is False:
                return '"{" py_ws "}"'
            value = self.value_rule(extra if isinstance(extra, dict) else True)
            pair = self._add("pair", f'py_str py_ws ":" py_ws {value}')
            return f'"{{" py_ws ( {pair} ( py_sep {pair} )* )? py_ws "}}"'
        required = set(s.get("required") or [])
        items: list[tuple[str, bool]] = []
        for name, sub in props.items():
            key = self._alts(python_spellings(name))
            value = self.value_rule(sub)
            items.append((f'( {key} ) py_ws ":" py_ws {value}', name in required))
        seq = self._sequence_rule(items)
        return f'"{{" py_ws {seq} py_ws "}}"'
