"""Built-in tools: ``calculator`` (safe arithmetic) and ``datetime`` (current date and time).

Other packages add theirs with :func:`register_builtin` (the sandbox registers
``python``, the code interpreter); ``browser`` (:mod:`calltune.tools.browser`, needs the
``browser`` extra) is loaded on first use. :func:`get_builtin` returns a :class:`Tool`.
"""

from __future__ import annotations

import ast
import importlib
import math
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import UnknownBuiltinError
from .tool import Tool, tool

# ---------------------------------------------------------------------------------------------------
# calculator
# ---------------------------------------------------------------------------------------------------

MAX_EXPRESSION_LENGTH = 1000
MAX_INT_BITS = 10_000  # ~3000 decimal digits; bigger integers are refused
MAX_FACTORIAL = 1000
MAX_DEPTH = 50

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_SYMBOLS = {
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.MatMult: "@",
    ast.Invert: "~",
    ast.Not: "not",
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _factorial(n: Any) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or n < 0:
        raise ValueError("factorial() needs a non-negative integer")
    if n > MAX_FACTORIAL:
        raise ValueError(f"factorial() is limited to n <= {MAX_FACTORIAL}")
    return math.factorial(n)


def _log(x: float, base: float | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "cbrt": math.cbrt,
    "exp": math.exp,
    "log": _log,
    "ln": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "degrees": math.degrees,
    "radians": math.radians,
    "hypot": math.hypot,
    "floor": math.floor,
    "ceil": math.ceil,
    "trunc": math.trunc,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "gcd": math.gcd,
    "factorial": _factorial,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}


class _Evaluator:
    def eval(self, node: ast.AST, depth: int = 0) -> int | float:
        if depth > MAX_DEPTH:
            raise ValueError("expression is nested too deeply")
        if isinstance(node, ast.Expression):
            return self.eval(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError(f"only numbers are allowed, not {node.value!r}")
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.eval(node.left, depth + 1)
            right = self.eval(node.right, depth + 1)
            return self._binary(node.op, left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.eval(node.operand, depth + 1))
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise ValueError(f"unknown name {node.id!r}; constants: {', '.join(CONSTANTS)}")
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                raise ValueError("attribute access is not allowed")
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                what = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ValueError(f"function {what!r} is not allowed; functions: {', '.join(FUNCTIONS)}")
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise ValueError(f"{node.func.id}() takes plain positional arguments only")
            args = [self.eval(a, depth + 1) for a in node.args]
            return self._check(FUNCTIONS[node.func.id](*args))
        if isinstance(node, ast.Attribute):
            raise ValueError("attribute access is not allowed")
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            symbol = _SYMBOLS.get(type(node.op), type(node.op).__name__)
            raise ValueError(f"operator {symbol!r} is not allowed; operators: + - * / // % **")
        raise ValueError(f"{type(node).__name__} is not allowed in a calculator expression")

    def _binary(self, op: ast.operator, a: int | float, b: int | float) -> int | float:
        if isinstance(op, ast.Pow):
            if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
                if b * math.log2(abs(a)) > MAX_INT_BITS:
                    raise ValueError(f"result too large (more than {MAX_INT_BITS} bits)")
            elif abs(b) > 1e6 and isinstance(a, int) and abs(a) > 1 and b > 0:
                raise ValueError("exponent too large")
        if isinstance(op, ast.Mult) and isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
                raise ValueError(f"result too large (more than {MAX_INT_BITS} bits)")
        return self._check(_BINARY[type(op)](a, b))

    @staticmethod
    def _check(value: Any) -> int | float:
        if isinstance(value, complex):
            raise ValueError("the result is a complex number, which the calculator does not support")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise ValueError(f"result too large (more than {MAX_INT_BITS} bits)")
        return value


def evaluate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely (``ast``, never ``eval``).

    Allowed: numbers, ``+ - * / // % **``, unary ``+``/``-``, parentheses, the functions in
    :data:`FUNCTIONS` and the constants in :data:`CONSTANTS`. ``^`` is read as a power.
    Raises :class:`ValueError` with the reason for anything else or for an impossible result.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("empty expression")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise ValueError(f"not a valid expression: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError("expression is nested too deeply") from None
    try:
        return _Evaluator().eval(tree)
    except ZeroDivisionError:
        raise ValueError("division by zero") from None
    except OverflowError:
        raise ValueError("numeric overflow: the result is too large") from None
    except RecursionError:
        raise ValueError("expression is nested too deeply") from None
    except TypeError as e:
        raise ValueError(str(e)) from None


@tool(name="calculator")
def calculator(
    expression: Annotated[str, "An arithmetic expression, e.g. '(3 + 4) * sqrt(2) / 7'"],
) -> int | float:
    """Evaluate an arithmetic expression and return the number.

    Supports + - * / // % ** (or ^), parentheses and sqrt, cbrt, exp, log, ln, log10, log2, sin, cos,
    tan, asin, acos, atan, atan2, sinh, cosh, tanh, degrees, radians, hypot, floor, ceil, trunc, abs,
    round, min, max, gcd, factorial, and the constants pi, e, tau.
    """
    return evaluate(expression)


# ---------------------------------------------------------------------------------------------------
# current date and time
# ---------------------------------------------------------------------------------------------------

_now: Callable[..., datetime] = datetime.now  # replaced in tests


@tool(name="current_datetime")
def current_datetime(
    timezone: Annotated[
        str | None, "IANA time zone such as 'Asia/Shanghai' or 'UTC'; default: local time"
    ] = None,
) -> dict[str, str]:
    """Get the current date, time and weekday."""
    if timezone:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {timezone!r}; use an IANA name such as 'Asia/Shanghai'"
            ) from None
        now = _now(zone)
        name = timezone
    else:
        now = _now().astimezone()
        name = now.tzname() or "local"
    return {
        "datetime": now.isoformat(timespec="seconds"),
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M:%S"),
        "weekday": now.strftime("%A"),
        "timezone": name,
    }


# ---------------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------------

_FACTORIES: dict[str, Callable[..., Tool]] = {
    "calculator": lambda: calculator,
    "datetime": lambda: current_datetime,
}
# built-ins that live in other packages: (module, factory attribute). Importing the module may
# register the built-in itself; otherwise the named factory is registered.
_LAZY_MODULES: dict[str, tuple[str, str]] = {
    "python": ("calltune.sandbox", "python_tool"),
    "browser": ("calltune.tools.browser", "browser_tool"),
}


def register_builtin(name: str, factory: Callable[..., Tool], *, replace: bool = False) -> None:
    """Register ``factory`` (called with ``get_builtin``'s keyword arguments, returns a Tool) as ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError("a built-in needs a non-empty name")
    if not callable(factory):
        raise TypeError("factory must be callable and return a Tool")
    if name in _FACTORIES and not replace:
        raise ValueError(f"built-in {name!r} is already registered (pass replace=True to override)")
    _FACTORIES[name] = factory


def list_builtins() -> list[str]:
    """Names accepted by :func:`get_builtin` (registered ones plus lazily importable ones)."""
    return sorted(set(_FACTORIES) | set(_LAZY_MODULES))


def get_builtin(name: str, **kwargs: Any) -> Tool:
    """The built-in tool ``name`` ("calculator", "datetime", "python", ...); kwargs go to its factory."""
    if name not in _FACTORIES and name in _LAZY_MODULES:
        module_name, attr = _LAZY_MODULES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise UnknownBuiltinError(
                f"built-in {name!r} needs {module_name}, which failed to import: {e}"
            ) from e
        if name not in _FACTORIES and callable(getattr(module, attr, None)):
            _FACTORIES[name] = getattr(module, attr)
    if name not in _FACTORIES:
        raise UnknownBuiltinError(f"unknown built-in tool {name!r}; available: {', '.join(list_builtins())}")
    made = _FACTORIES[name](**kwargs)
    if not isinstance(made, Tool):
        raise TypeError(f"the factory of built-in {name!r} returned {type(made).__name__}, not a Tool")
    return made
