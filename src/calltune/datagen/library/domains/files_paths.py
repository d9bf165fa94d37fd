"""File paths and names: joins, splits, extensions, size formatting and glob matching on given lists.

Pure string functions: nothing here reads or writes the disk.
"""

from __future__ import annotations

import fnmatch
import ntpath
import posixpath
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Literal

from ....tools import tool
from ._checks import non_negative, not_empty

DOMAIN = "files_paths"

Style = Literal["posix", "windows"]


def _pure(style: str) -> type[PurePosixPath] | type[PureWindowsPath]:
    return PureWindowsPath if style == "windows" else PurePosixPath


@tool
def join_path_parts(parts: list[str], style: Style = "posix") -> str:
    """Join path components into one path with the separator of the chosen style.

    Args:
        parts: The components in order; a component that is absolute restarts the path.
        style: Path convention to use.
    """
    not_empty(parts=parts)
    return str(_pure(style)(*parts))


@tool
def split_path_parts(path: str, style: Style = "posix") -> dict:
    """Split a path into its directory, file name, stem and extension.

    Args:
        path: The path to split.
        style: Path convention the path is written in.
    """
    not_empty(path=path)
    p = _pure(style)(path)
    return {
        "parent": str(p.parent),
        "name": p.name,
        "stem": p.stem,
        "extension": p.suffix,
        "parts": list(p.parts),
    }


@tool
def file_extension_of(filename: str, all_suffixes: bool = False) -> dict:
    """The extension of a file name, or all of its suffixes (as in archive.tar.gz).

    Args:
        filename: The file name or path.
        all_suffixes: Return every suffix instead of only the last one.
    """
    not_empty(filename=filename)
    p = PurePosixPath(filename)
    return {"extension": "".join(p.suffixes) if all_suffixes else p.suffix, "has_extension": bool(p.suffix)}


@tool
def change_file_extension(filename: str, new_extension: str) -> str:
    """Replace a file name's extension (or add one when it has none).

    Args:
        filename: The file name or path.
        new_extension: The new extension, with or without the leading dot; empty removes it.
    """
    not_empty(filename=filename)
    ext = new_extension if not new_extension or new_extension.startswith(".") else "." + new_extension
    if ext and (len(ext) < 2 or "/" in ext):
        raise ValueError(f"invalid extension {new_extension!r}")
    return str(PurePosixPath(filename).with_suffix(ext))


_UNITS = {
    "si": (1000, ["B", "kB", "MB", "GB", "TB", "PB"]),
    "iec": (1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]),
}


@tool
def format_file_size(num_bytes: int, system: Literal["si", "iec"] = "si", decimals: int = 1) -> str:
    """Human-readable file size: decimal units (kB, MB) or binary units (KiB, MiB).

    Args:
        num_bytes: Size in bytes.
        system: Decimal (si, powers of 1000) or binary (iec, powers of 1024) units.
        decimals: Digits after the decimal point.
    """
    non_negative(num_bytes=num_bytes, decimals=decimals)
    base, names = _UNITS[system]
    value, i = float(num_bytes), 0
    while value >= base and i < len(names) - 1:
        value /= base
        i += 1
    return f"{int(value)} B" if i == 0 else f"{value:.{decimals}f} {names[i]}"


_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


@tool
def parse_file_size(text: str) -> dict:
    """Number of bytes in a written size such as a number followed by B, kB, MB, GiB and so on.

    Args:
        text: The size as written, a number and an optional unit.
    """
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"cannot read a size from {text!r}")
    number, unit = float(m.group(1)), m.group(2) or "B"
    for base, names in _UNITS.values():
        lowered = [n.lower() for n in names]
        if unit.lower() in lowered:
            return {"bytes": int(round(number * base ** lowered.index(unit.lower())))}
    raise ValueError(f"unknown size unit {unit!r}")


@tool
def match_glob_pattern(pattern: str, names: list[str], case_sensitive: bool = True) -> dict:
    """Which of the given file names match a shell glob pattern (with *, ? and [ranges]).

    Args:
        pattern: The glob pattern.
        names: File names or paths to test.
        case_sensitive: Whether upper and lower case must match.
    """
    not_empty(pattern=pattern)
    if case_sensitive:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    else:
        hits = [n for n in names if fnmatch.fnmatchcase(n.lower(), pattern.lower())]
    return {"matches": hits, "count": len(hits)}


@tool
def filter_names_by_extension(names: list[str], extensions: list[str], exclude: bool = False) -> dict:
    """Keep (or drop) the file names whose extension is in a list, ignoring case.

    Args:
        names: File names or paths.
        extensions: Extensions to select, with or without the leading dot.
        exclude: Drop the matching names instead of keeping them.
    """
    not_empty(extensions=extensions)
    wanted = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    keep = [n for n in names if (PurePosixPath(n).suffix.lower() in wanted) != exclude]
    return {"names": keep, "count": len(keep)}


@tool
def normalize_path_text(path: str, style: Style = "posix") -> str:
    """Collapse redundant separators and '.'/'..' components of a path (without touching the disk).

    Args:
        path: The path to normalise.
        style: Path convention the path is written in.
    """
    not_empty(path=path)
    return (ntpath if style == "windows" else posixpath).normpath(path)


@tool
def relative_path_between(path: str, start: str) -> str:
    """The POSIX path that leads from a start directory to a target path.

    Args:
        path: The target path.
        start: The directory the relative path starts from.
    """
    not_empty(path=path, start=start)
    if posixpath.isabs(path) != posixpath.isabs(start):
        raise ValueError("path and start must both be absolute or both be relative")
    return posixpath.relpath(path, start)


@tool
def common_parent_directory(paths: list[str]) -> str:
    """The deepest directory shared by all the given POSIX paths.

    Args:
        paths: Two or more paths.
    """
    if len(paths) < 2:
        raise ValueError("give at least two paths")
    try:
        return posixpath.commonpath(paths)
    except ValueError as e:
        raise ValueError(f"the paths have no common directory: {e}") from e


TOOLS = [
    join_path_parts,
    split_path_parts,
    file_extension_of,
    change_file_extension,
    format_file_size,
    parse_file_size,
    match_glob_pattern,
    filter_names_by_extension,
    normalize_path_text,
    relative_path_between,
    common_parent_directory,
]
