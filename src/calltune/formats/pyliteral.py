"""Safe parsing and rendering of ChatGLM3's ``tool_call(k=v, ...)`` code (Python literals only).

The model's output is never evaluated: the text is parsed with :func:`ast.parse` and only
literal nodes are converted (strings, numbers, booleans, None, lists, tuples, dicts, and the
JSON spellings ``true``/``false``/``null``). Anything else — names, attribute access, calls,
comprehensions, operators other than a sign on a number — is rejected with
:class:`LiteralError`. Input size and nesting depth are capped so hostile text cannot hang
or crash the parser.
"""

from __future__ import annotations

import ast
import keyword
import math
from typing import Any

from ..errors import CalltuneError

#: longest call text we try to parse (characters)
MAX_CALL_CHARS = 1_000_000
#: deepest nesting of lists/dicts accepted in a value
MAX_DEPTH = 64
#: a cheap pre-check: more opening brackets than this in a row is rejected before ast runs
_MAX_BRACKETS = 10 * MAX_DEPTH

_JSON_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


class LiteralError(CalltuneError, ValueError):
    """Text that is not a literal-only ``tool_call(...)`` / literal value."""


def is_identifier(name: str) -> bool:
    """True when ``name`` can be written as a Python keyword argument."""
    return name.isidentifier() and not keyword.iskeyword(name)


def _bracket_depth(text: str) -> int:
    """Maximum bracket nesting, ignoring brackets inside string literals (approximate, cheap)."""
    depth = best = 0
    quote: str | None = None
    esc = False
    for ch in text:
        if quote:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth > best:
                best = depth
        elif ch in ")]}":
            depth -= 1
    return best


def _parse_expr(text: str) -> ast.expr:
    if len(text) > MAX_CALL_CHARS:
        raise LiteralError(f"call text is {len(text)} characters, more than the limit of {MAX_CALL_CHARS}")
    if _bracket_depth(text) > _MAX_BRACKETS:
        raise LiteralError(f"brackets are nested more than {_MAX_BRACKETS} deep")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise LiteralError(f"not valid Python call syntax: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise LiteralError(f"cannot parse call text: {type(e).__name__}") from None
    return tree.body


def literal_value(node: ast.AST, depth: int = 0) -> Any:
    """Convert a literal-only AST node to a JSON-compatible value; raise LiteralError otherwise."""
    if depth > MAX_DEPTH:
        raise LiteralError(f"value is nested more than {MAX_DEPTH} deep")
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, float)):
            if isinstance(v, float) and not math.isfinite(v):
                raise LiteralError("non-finite numbers are not allowed")
            return v
        raise LiteralError(f"{type(v).__name__} literals are not allowed (only JSON values)")
    if isinstance(node, ast.Name):
        if node.id in _JSON_NAMES:
            return _JSON_NAMES[node.id]
        raise LiteralError(f"name {node.id!r} is not a literal (only values are allowed, no variables)")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = node.operand
        if isinstance(operand, ast.Constant) and type(operand.value) in (int, float):
            return -operand.value if isinstance(node.op, ast.USub) else operand.value
        raise LiteralError("a sign is only allowed in front of a number")
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal_value(e, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                raise LiteralError("'**' unpacking is not allowed inside a dict")
            key = literal_value(k, depth + 1)
            if not isinstance(key, str):
                raise LiteralError(f"dict keys must be strings, got {type(key).__name__}")
            out[key] = literal_value(v, depth + 1)
        return out
    if isinstance(node, ast.Call):
        raise LiteralError("function calls are not allowed inside arguments")
    if isinstance(node, ast.Attribute):
        raise LiteralError("attribute access is not allowed")
    raise LiteralError(f"{type(node).__name__} expressions are not allowed (literals only)")


def parse_literal(text: str) -> Any:
    """Parse one literal value (Python or JSON spelling) safely."""
    return literal_value(_parse_expr(text))


def parse_tool_call(text: str, func_name: str = "tool_call") -> dict[str, Any]:
    """Parse ``tool_call(k=v, ...)`` into its keyword arguments (literals only).

    ``tool_call(**{'from': 1})`` is accepted only when a key cannot be written as a
    keyword argument (that is how :func:`render_tool_call` writes such keys).
    Raises :class:`LiteralError` with a readable message for anything else.
    """
    node = _parse_expr(text)
    if not isinstance(node, ast.Call):
        raise LiteralError(f"expected {func_name}(...), got a {type(node).__name__} expression")
    if not isinstance(node.func, ast.Name) or node.func.id != func_name:
        got = ast.unparse(node.func)[:80] if len(text) < 10_000 else "another function"
        raise LiteralError(f"expected a call of {func_name}(...), got {got}(...)")
    if node.args:
        raise LiteralError(f"{func_name}() takes keyword arguments only, got {len(node.args)} positional")
    args: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            value = literal_value(kw.value)
            if not isinstance(value, dict) or not value or all(is_identifier(k) for k in value):
                raise LiteralError(
                    f"{func_name}(**...) is only accepted with a dict literal of names that "
                    "cannot be keyword arguments"
                )
            dup = set(value) & set(args)
            if dup:
                raise LiteralError(f"argument {sorted(dup)[0]!r} given twice")
            args.update(value)
        else:
            if kw.arg in args:
                raise LiteralError(f"argument {kw.arg!r} given twice")
            args[kw.arg] = literal_value(kw.value)
    return args


def _to_ast(value: Any, depth: int = 0) -> ast.expr:
    if depth > MAX_DEPTH * 4:
        raise LiteralError("value nested too deep to render")
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
        return ast.Constant(value)
    if isinstance(value, (list, tuple)):
        return ast.List(elts=[_to_ast(v, depth + 1) for v in value], ctx=ast.Load())
    if isinstance(value, dict):
        return ast.Dict(
            keys=[ast.Constant(str(k)) for k in value], values=[_to_ast(v, depth + 1) for v in value.values()]
        )
    raise LiteralError(f"cannot render a {type(value).__name__} as a Python literal")


def render_literal(value: Any) -> str:
    """A JSON-compatible value as Python literal source (``ast.unparse`` style, single quotes)."""
    return ast.unparse(_to_ast(value))


def render_tool_call(arguments: dict[str, Any], func_name: str = "tool_call") -> str:
    """``tool_call(k=v, ...)`` with Python-literal values, as ChatGLM3's fine-tuning code writes it.

    Keys that cannot be keyword arguments (``from``, ``a-b``) go into one ``**{...}`` dict.
    """
    kws = [ast.keyword(arg=k, value=_to_ast(v)) for k, v in arguments.items() if is_identifier(k)]
    extra = {k: v for k, v in arguments.items() if not is_identifier(k)}
    if extra:
        kws.append(ast.keyword(arg=None, value=_to_ast(extra)))
    call = ast.Call(func=ast.Name(id=func_name, ctx=ast.Load()), args=[], keywords=kws)
    return ast.unparse(call)
