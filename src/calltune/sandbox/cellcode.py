"""The model's code as a notebook cell: a function body's ``return`` at the end becomes the value.

Code models write a cell like the body of a function and end it with ``return result`` (the
default model: ``return {"has_missing_values": df.isnull().values.any()}``), which Python
rejects at module level (``SyntaxError: 'return' outside function``); the model then wrote the
same code again. A last top-level ``return EXPR`` is run as ``EXPR``, the value a cell shows;
anything else is left as written (a ``return`` elsewhere still fails, and says why).
"""

from __future__ import annotations

import ast


def final_return_as_value(code: str) -> str:
    """``code`` with its last statement ``return EXPR`` (at the top level) written as ``EXPR``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if not tree.body or not isinstance(tree.body[-1], ast.Return):
        return code
    ret = tree.body[-1]
    if any(isinstance(n, ast.Return) for stmt in tree.body[:-1] for n in _top_level(stmt)):
        return code  # an earlier return outside a function: not a cell's last value
    value = ast.get_source_segment(code, ret.value) if ret.value is not None else None
    lines = code.splitlines(keepends=True)
    head = "".join(lines[: ret.lineno - 1]) + lines[ret.lineno - 1][: ret.col_offset]
    tail = "".join(lines[ret.end_lineno :]) if ret.end_lineno is not None else ""
    return head + (f"({value})" if value else "") + tail


def _top_level(stmt: ast.stmt) -> list[ast.AST]:
    """The nodes of ``stmt`` outside any function or class it defines."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out
