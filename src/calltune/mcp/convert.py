"""MCP ↔ calltune: tool names (clashes between servers), result content → observation text."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import mcp_types as types

from ..tools.errors import ToolSchemaError
from ..tools.tool import check_tool_name

_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def server_label(name: str) -> str:
    """A server name usable as a tool-name prefix: letters, digits, ``_`` and ``-`` only."""
    return _NOT_NAME.sub("-", name).strip("-") or "mcp"


def assign_names(
    offers: Mapping[str, Iterable[str]], reserved: Iterable[str] = ()
) -> tuple[dict[tuple[str, str], str], list[str]]:
    """The name each server's tool is offered under, and warnings: one listing every renamed tool,
    one for each tool left out.

    ``offers``: server label → its tool names; ``reserved``: names taken already (the local
    tools, which keep their names). A name offered by one source only is kept; a name offered
    by several is ``{server}_{tool}`` for every server that offers it, so no source wins by
    the order it was given in. A name calltune cannot use (whitespace, too long) is left out.
    """
    reserved = set(reserved)
    count = Counter(n for names in offers.values() for n in set(names))
    taken = set(reserved)
    chosen: dict[tuple[str, str], str] = {}
    warnings: list[str] = []
    clashes: dict[str, list[str]] = {}
    for server, names in offers.items():
        for tool in names:
            clash = count[tool] > 1 or tool in reserved
            name = f"{server}_{tool}" if clash else tool
            base, n = name, 2
            while name in taken:
                name, n = f"{base}_{n}", n + 1
            try:
                check_tool_name(name)
            except ToolSchemaError as e:
                warnings.append(f"MCP server {server!r}: tool {tool!r} left out: {e}")
                continue
            taken.add(name)
            chosen[(server, tool)] = name
            if name != tool:
                clashes.setdefault(tool, []).append(repr(name))
    if clashes:
        renamed = "; ".join(f"{tool!r} → {', '.join(names)}" for tool, names in clashes.items())
        warnings.append(
            f"tool names offered by more than one source, prefixed with the MCP server's name: {renamed}"
        )
    return chosen, warnings


def _blob_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)


def _block_text(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        return f"[{block.type} {block.mime_type}, {_blob_size(block.data)} bytes]"
    if isinstance(block, types.ResourceLink):
        about = f": {block.description}" if block.description else ""
        return f"[resource {block.uri} ({block.name}){about}]"
    if isinstance(block, types.EmbeddedResource):
        res = block.resource
        if isinstance(res, types.TextResourceContents):
            return res.text
        return f"[resource {res.uri} {res.mime_type or ''}, {_blob_size(res.blob)} bytes]".replace(" ,", ",")
    return json.dumps(block.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False)


def _is_json_of(text: str, value: Any) -> bool:
    try:
        return json.loads(text) == value
    except (json.JSONDecodeError, ValueError):
        return False


def result_text(result: types.CallToolResult) -> str:
    """The observation text for a ``tools/call`` result.

    Text blocks as they are (joined by newlines), other blocks described in brackets (images
    and audio by type and size, resources by URI; an embedded text resource by its text).
    Structured content is shown as compact JSON when nothing else says the same: when there
    are no content blocks, or the text blocks are its JSON serialisation (what the spec asks
    servers to send alongside it).
    """
    blocks = list(result.content or [])
    structured = result.structured_content
    if structured is not None:
        texts = [b.text for b in blocks if isinstance(b, types.TextContent)]
        if not blocks or (len(texts) == len(blocks) and all(_is_json_of(t, structured) for t in texts)):
            return json.dumps(structured, ensure_ascii=False)
    return "\n".join(_block_text(b) for b in blocks)
