"""What an uploaded file is and how the code should open it, for the interpreter's system prompt.

Told only a path, small models open every data file with ``pandas.read_csv`` (a JSON Lines file
then reads as one odd column). The upload note names each file's real type and the reader for
it, by the file's extension.
"""

from __future__ import annotations

from pathlib import PurePath

#: extension → (what the file is, how to read it; ``path`` stands for the file's path)
READERS: dict[str, tuple[str, str]] = {
    ".csv": ("CSV", "pandas.read_csv(path)"),
    ".tsv": ("tab-separated values", "pandas.read_csv(path, sep='\\t')"),
    ".jsonl": ("JSON Lines, one JSON object per line, not CSV", "pandas.read_json(path, lines=True)"),
    ".ndjson": ("JSON Lines, one JSON object per line, not CSV", "pandas.read_json(path, lines=True)"),
    ".json": ("JSON", "json.load(open(path))"),
    ".xlsx": ("an Excel workbook", "pandas.read_excel(path, sheet_name=None), a dict of its sheets"),
    ".xlsm": ("an Excel workbook", "pandas.read_excel(path, sheet_name=None), a dict of its sheets"),
    ".parquet": ("Parquet", "pandas.read_parquet(path)"),
    ".txt": ("plain text", "open(path).read()"),
    ".md": ("Markdown text", "open(path).read()"),
}


def describe_file(path: str) -> str:
    """``path`` and, for a known kind of file, what it is and how to read it."""
    kind = READERS.get(PurePath(path).suffix.lower())
    if kind is None:
        return path
    what, how = kind
    return f"{path} ({what}: {how})"
