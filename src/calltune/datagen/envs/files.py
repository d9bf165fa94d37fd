"""``files``: an in-memory file system for agent trajectories (no real disk is touched).

The tree lives in two dicts: file path → text, and the set of folder paths. Paths are
``/``-separated and relative to the root (``notes/todo.md``; a leading ``/`` or ``./`` is
accepted, ``/`` and ``.`` name the root); ``..`` may not climb above the root, and
backslashes, NUL and ``~`` are refused.

Seeded start state (``fresh(seed)``): ``notes/`` (meeting notes naming one project each,
``todo.md``), ``data/`` (sales and inventory CSVs with integer amounts), ``logs/`` (timestamped
INFO/WARN/ERROR lines; at least one log with errors and one without), ``config/``
(``app.ini`` with a port, ``deploy.json``), ``projects/<name>/README.md``, ``文档/``
(Chinese meeting minutes) and an empty ``reports/``.

Tools: ``list_folder``, ``read_text_file``, ``write_text_file``, ``append_to_text_file``,
``make_folder`` (with parents), ``move_path`` and ``copy_path`` (into a folder when the
destination is one; never overwrite), ``delete_path`` (``recursive`` for non-empty
folders), ``search_file_contents``, ``get_file_info`` (size, lines, words).

``state()``: ``{"folders": [sorted paths], "files": {path: text, sorted}}``.
"""

from __future__ import annotations

import json
import random
from typing import Any

from . import EnvTask
from .base import BaseInstance, EnvError
from .templates import Draft, Template, make_tasks, numbers_in, problems, say, template

MAX_READ_CHARS = 8000
MAX_MATCHES = 50

_PEOPLE = ["Alice", "Bruno", "Chen Wei", "Dana", "Elif", "Farah", "Goran", "Hana", "Ivan", "Julia"]
_PROJECTS = ["atlas", "borealis", "cobalt", "ember", "falcon", "granite", "helios", "juniper", "kestrel"]
_REGIONS = ["north", "south", "east", "west", "central"]
_ITEMS = ["printer paper", "toner", "laptops", "monitors", "desk chairs", "usb cables", "headsets"]
_WAREHOUSES = ["Leeds", "Lyon", "Porto", "Gdansk"]
_MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08"]
_INFO = ["service started", "request served in {n} ms", "cache refreshed", "user login ok", "job queued"]
_WARN = ["slow response: {n} ms", "retrying connection", "disk usage at {n}%"]
_ERRORS = ["database timeout after {n} s", "failed to send email", "payment gateway returned 502"]
_TODO = [
    "renew the SSL certificate",
    "order new toner",
    "review the Q3 budget",
    "update the wiki",
    "book the team offsite",
    "archive old logs",
    "call the landlord about the heating",
]


class _Files:
    """The tree of one instance: ``files`` (path → text) and ``dirs`` (folder paths; ``""`` is the root)."""

    def __init__(self, files: dict[str, str], dirs: set[str]) -> None:
        self.files = dict(files)
        self.dirs = set(dirs) | {""}


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _base(path: str) -> str:
    return path.rpartition("/")[2]


def _show(path: str) -> str:
    return path or "/"


def _log(rng: random.Random, errors: int) -> str:
    kinds = ["ERROR"] * errors + ["INFO"] * rng.randint(3, 7) + ["WARN"] * rng.randint(0, 2)
    rng.shuffle(kinds)
    lines = []
    for i, kind in enumerate(kinds):
        pool = {"ERROR": _ERRORS, "WARN": _WARN, "INFO": _INFO}[kind]
        text = rng.choice(pool).format(n=rng.randint(2, 950))
        lines.append(
            f"2024-06-{rng.randint(1, 28):02d} {8 + i // 2:02d}:{rng.randint(0, 59):02d}:00 {kind} {text}"
        )
    return "\n".join(lines) + "\n"


def seed_tree(seed: int) -> _Files:
    """The start state of ``fresh(seed)``: realistic folders and files drawn from ``seed``."""
    rng = random.Random(f"files:{seed}")
    files: dict[str, str] = {}
    projects = rng.sample(_PROJECTS, 5)
    for i, proj in enumerate(projects[:3]):
        day = f"2024-0{rng.randint(3, 9)}-{10 + i * 5}"
        people = ", ".join(rng.sample(_PEOPLE, 3))
        files[f"notes/meeting_{day}.md"] = (
            f"# Meeting {day}\n\nAttendees: {people}\n\n## Decisions\n- project {proj.title()} moves to "
            f"phase {rng.randint(2, 4)}\n- budget review in {rng.choice(['June', 'July', 'August'])}\n\n"
            f"## Action items\n- {rng.choice(_PEOPLE)}: {rng.choice(_TODO)}\n"
        )
    files["notes/todo.md"] = "# To do\n" + "".join(f"- {t}\n" for t in rng.sample(_TODO, rng.randint(3, 5)))
    year = rng.choice([2023, 2024])
    rows = [
        f"{rng.choice(_REGIONS)},{m},{rng.randint(8, 90) * 100}"
        for m in rng.sample(_MONTHS, rng.randint(5, 8))
    ]
    files[f"data/sales_{year}.csv"] = "region,month,amount\n" + "\n".join(rows) + "\n"
    inv = [
        f"{it},{rng.randint(0, 120)},{rng.choice(_WAREHOUSES)}"
        for it in rng.sample(_ITEMS, rng.randint(4, 6))
    ]
    files["data/inventory.csv"] = "item,quantity,warehouse\n" + "\n".join(inv) + "\n"
    logs = rng.sample(["app.log", "worker.log", "backup.log", "scheduler.log"], 3)
    errors = [0, rng.randint(1, 4), rng.randint(0, 3)]
    for name, n in zip(logs, errors, strict=True):
        files[f"logs/{name}"] = _log(rng, n)
    port = rng.choice([8080, 8000, 5000, 9090, 3000, 8443])
    files["config/app.ini"] = (
        f"[server]\nhost = 0.0.0.0\nport = {port}\nworkers = {rng.randint(2, 8)}\n\n"
        f"[database]\nname = {rng.choice(projects)}_db\npool_size = {rng.randint(5, 20)}\n"
    )
    deploy = {"region": rng.choice(["eu-west", "us-east", "ap-south"]), "replicas": rng.randint(1, 5)}
    files["config/deploy.json"] = json.dumps(deploy, indent=2) + "\n"
    for proj in projects[3 : 4 + rng.randint(0, 1)]:
        files[f"projects/{proj}/README.md"] = (
            f"# {proj.title()}\n\nOwner: {rng.choice(_PEOPLE)}\nStatus: active\n"
        )
    files["文档/会议纪要.txt"] = (
        f"会议纪要（{rng.randint(1, 12)}月{rng.randint(1, 28)}日）\n参会人：{rng.choice(['王芳', '李强', '张伟'])}、"
        f"{rng.choice(['刘洋', '陈静', '赵磊'])}\n结论：{rng.choice(['下周发布新版本', '预算增加百分之十', '推迟上线一周'])}\n"
    )
    dirs = {"reports"}
    for path in files:
        while (path := _parent(path)) != "":
            dirs.add(path)
    return _Files(files, dirs)


class FilesInstance(BaseInstance):
    """One isolated in-memory file tree with its tools."""

    TOOLS = (
        "list_folder",
        "read_text_file",
        "write_text_file",
        "append_to_text_file",
        "make_folder",
        "move_path",
        "copy_path",
        "delete_path",
        "search_file_contents",
        "get_file_info",
    )

    def __init__(self, tree: _Files) -> None:
        super().__init__()
        self._t = tree

    # -- paths -----------------------------------------------------------------------------------
    @staticmethod
    def _norm(path: str) -> str:
        if not isinstance(path, str):
            raise EnvError(f"a path must be a string, got {type(path).__name__}")
        if "\\" in path or "\x00" in path or path.strip().startswith("~"):
            raise EnvError(f"invalid path {path!r}: use '/' between folders, relative to the root")
        parts: list[str] = []
        for part in path.strip().split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    raise EnvError(f"path {path!r} leaves the root folder")
                parts.pop()
            else:
                parts.append(part)
        return "/".join(parts)

    def _file(self, path: str) -> str:
        p = self._norm(path)
        if p in self._t.dirs:
            raise EnvError(f"{_show(p)!r} is a folder, not a file (list it with list_folder)")
        if p not in self._t.files:
            raise EnvError(f"no file {_show(p)!r}")
        return p

    def _folder(self, path: str) -> str:
        p = self._norm(path)
        if p in self._t.files:
            raise EnvError(f"{_show(p)!r} is a file, not a folder")
        if p not in self._t.dirs:
            raise EnvError(f"no folder {_show(p)!r}")
        return p

    def _new_path(self, p: str) -> str:
        if p in self._t.files or p in self._t.dirs:
            raise EnvError(f"{_show(p)!r} already exists")
        if _parent(p) not in self._t.dirs:
            raise EnvError(f"folder {_show(_parent(p))!r} does not exist (create it with make_folder)")
        return p

    def _under(self, folder: str) -> tuple[list[str], list[str]]:
        """The files and folders below ``folder`` (not itself), sorted."""
        pre = folder + "/" if folder else ""
        files = sorted(f for f in self._t.files if f.startswith(pre))
        dirs = sorted(d for d in self._t.dirs if d and d.startswith(pre))
        return files, dirs

    def _target(self, source: str, destination: str) -> tuple[str, str]:
        src = self._norm(source)
        if src == "":
            raise EnvError("the root folder cannot be moved or copied")
        if src not in self._t.files and src not in self._t.dirs:
            raise EnvError(f"no file or folder {_show(src)!r}")
        dst = self._norm(destination)
        if dst in self._t.dirs:
            dst = f"{dst}/{_base(src)}" if dst else _base(src)
        if src in self._t.dirs and (dst == src or dst.startswith(src + "/")):
            raise EnvError(f"cannot put folder {src!r} inside itself")
        return src, self._new_path(dst)

    def _transfer(self, src: str, dst: str, keep: bool) -> int:
        if src in self._t.files:
            moved = {src: dst}
        else:
            files, dirs = self._under(src)
            moved = {f: dst + f[len(src) :] for f in files}
            for d in [src, *dirs]:
                self._t.dirs.add(dst + d[len(src) :])
                if not keep:
                    self._t.dirs.discard(d)
        for old, new in moved.items():
            self._t.files[new] = self._t.files[old] if keep else self._t.files.pop(old)
        return len(moved)

    # -- tools -----------------------------------------------------------------------------------
    def list_folder(self, path: str = "/") -> dict[str, Any]:
        """List the files and folders directly inside a folder, with file sizes in bytes.

        Args:
            path: the folder, relative to the root ("/" is the root, e.g. "notes").
        """
        p = self._folder(path)
        files, dirs = self._under(p)
        depth = p.count("/") + 1 if p else 0
        entries = [{"name": _base(d), "type": "folder"} for d in dirs if d.count("/") == depth]
        entries += [
            {"name": _base(f), "type": "file", "size_bytes": len(self._t.files[f].encode())}
            for f in files
            if f.count("/") == depth
        ]
        return {"folder": _show(p), "entries": entries}

    def read_text_file(self, path: str) -> str:
        """Read a text file and return its content.

        Args:
            path: the file, relative to the root (e.g. "notes/todo.md").
        """
        text = self._t.files[self._file(path)]
        if len(text) > MAX_READ_CHARS:
            return text[:MAX_READ_CHARS] + f"\n[... cut at {MAX_READ_CHARS} of {len(text)} characters]"
        return text

    def write_text_file(self, path: str, content: str) -> str:
        """Write a text file, creating it or replacing its content. Its folder must exist.

        Args:
            path: the file, relative to the root (e.g. "reports/summary.txt").
            content: the complete new text of the file.
        """
        p = self._norm(path)
        if p in self._t.dirs:
            raise EnvError(f"{_show(p)!r} is a folder, not a file")
        if p not in self._t.files:
            self._new_path(p)
        self._t.files[p] = content
        return f"wrote {len(content.encode())} bytes to {p}"

    def append_to_text_file(self, path: str, content: str) -> str:
        """Add text at the end of a file (a line break is put first when the file does not end with one).

        Args:
            path: the file, relative to the root; it is created when missing.
            content: the text to add.
        """
        p = self._norm(path)
        if p not in self._t.files:
            return self.write_text_file(path, content)
        old = self._file(p)
        text = self._t.files[old]
        self._t.files[old] = text + ("\n" if text and not text.endswith("\n") else "") + content
        return f"appended {len(content.encode())} bytes to {p}"

    def make_folder(self, path: str) -> str:
        """Create a folder, and any missing folders above it.

        Args:
            path: the new folder, relative to the root (e.g. "reports/2024").
        """
        p = self._norm(path)
        if p in self._t.dirs:
            return f"folder {_show(p)} already exists"
        parts = p.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub in self._t.files:
                raise EnvError(f"{sub!r} is a file, so no folder can be made there")
        for i in range(1, len(parts) + 1):
            self._t.dirs.add("/".join(parts[:i]))
        return f"created folder {p}"

    def move_path(self, source: str, destination: str) -> str:
        """Move or rename a file or folder. An existing destination folder receives it; nothing is overwritten.

        Args:
            source: the file or folder to move.
            destination: the new path, or an existing folder to move it into.
        """
        src, dst = self._target(source, destination)
        self._transfer(src, dst, keep=False)
        return f"moved {src} to {dst}"

    def copy_path(self, source: str, destination: str) -> str:
        """Copy a file or folder (with everything in it). An existing destination folder receives the copy.

        Args:
            source: the file or folder to copy.
            destination: the path of the copy, or an existing folder to copy it into.
        """
        src, dst = self._target(source, destination)
        n = self._transfer(src, dst, keep=True)
        return f"copied {src} to {dst} ({n} file{'s' if n != 1 else ''})"

    def delete_path(self, path: str, recursive: bool = False) -> str:
        """Delete a file, or a folder (a folder that is not empty needs recursive=true).

        Args:
            path: the file or folder to delete.
            recursive: also delete everything inside the folder.
        """
        p = self._norm(path)
        if p == "":
            raise EnvError("the root folder cannot be deleted")
        if p in self._t.files:
            del self._t.files[p]
            return f"deleted file {p}"
        p = self._folder(p)
        files, dirs = self._under(p)
        if (files or dirs) and not recursive:
            raise EnvError(
                f"folder {p!r} is not empty ({len(files)} files); pass recursive=true to delete it all"
            )
        for f in files:
            del self._t.files[f]
        self._t.dirs.difference_update([p, *dirs])
        return f"deleted folder {p}" + (f" and {len(files)} files in it" if files else "")

    def search_file_contents(
        self, text: str, folder: str = "/", case_sensitive: bool = False
    ) -> dict[str, Any]:
        """Find the lines that contain a text, in every file below a folder.

        Args:
            text: the text to look for.
            folder: where to search (with its subfolders); "/" is everywhere.
            case_sensitive: match upper and lower case exactly.
        """
        if not text:
            raise EnvError("text to search for must not be empty")
        files, _ = self._under(self._folder(folder))
        needle = text if case_sensitive else text.lower()
        matches = []
        for f in files:
            for i, line in enumerate(self._t.files[f].splitlines(), 1):
                if needle in (line if case_sensitive else line.lower()):
                    matches.append({"path": f, "line": i, "text": line[:200]})
        return {
            "count": len(matches),
            "matches": matches[:MAX_MATCHES],
            "truncated": len(matches) > MAX_MATCHES,
        }

    def get_file_info(self, path: str) -> dict[str, Any]:
        """Size and counts of a file (bytes, lines, words) or of a folder (files and folders below it, bytes).

        Args:
            path: the file or folder.
        """
        p = self._norm(path)
        if p not in self._t.files and p not in self._t.dirs:
            raise EnvError(f"no file or folder {_show(p)!r}")
        if p in self._t.files:
            text = self._t.files[p]
            return {
                "path": p,
                "type": "file",
                "size_bytes": len(text.encode()),
                "lines": len(text.splitlines()),
                "words": len(text.split()),
            }
        files, dirs = self._under(self._folder(p))
        size = sum(len(self._t.files[f].encode()) for f in files)
        return {
            "path": _show(p),
            "type": "folder",
            "files": len(files),
            "folders": len(dirs),
            "size_bytes": size,
        }

    # -- the protocol ----------------------------------------------------------------------------
    def describe(self) -> str:
        lines = ["A file system (paths relative to the root /). Folders and files:"]
        for d in sorted(self._t.dirs - {""}):
            files = [f for f in self._t.files if _parent(f) == d]
            shown = ", ".join(
                [f"{_base(s)}/" for s in sorted(self._t.dirs) if s and _parent(s) == d]
                + [f"{_base(f)} ({len(self._t.files[f].splitlines())} lines)" for f in sorted(files)]
            )
            lines.append(f"- {d}/: {shown or 'empty'}")
        return "\n".join(lines)[:1500]

    def state(self) -> dict[str, Any]:
        return {
            "folders": sorted(self._t.dirs - {""}),
            "files": {p: self._t.files[p] for p in sorted(self._t.files)},
        }


class FilesEnvironment:
    """The ``files`` environment: an in-memory file tree seeded from an integer."""

    name = "files"

    def fresh(self, seed: int) -> FilesInstance:
        return FilesInstance(seed_tree(seed))

    def tasks(self, seed: int, n: int) -> list[EnvTask]:
        return make_tasks(TEMPLATES, self.fresh(seed).state(), seed, n, self.name)


# -- task templates --------------------------------------------------------------------------------
TEMPLATES: list[Template] = []


def _same_file(end: dict[str, Any], path: str, content: str) -> tuple[bool, str]:
    return end["files"].get(path) == content, f"{path} should exist with its original content"


def _gone(end: dict[str, Any], path: str) -> tuple[bool, str]:
    return path not in end["files"] and path not in end["folders"], f"{path} should no longer exist"


def _has_number(end: dict[str, Any], path: str, value: float) -> tuple[bool, str]:
    text = end["files"].get(path)
    if text is None:
        return False, f"{path} was not written"
    return any(abs(x - value) < 1e-6 for x in numbers_in(text)), f"{path} should contain {value:g}"


def _logs(start: dict[str, Any]) -> dict[str, int]:
    return {
        p: sum("ERROR" in ln for ln in t.splitlines())
        for p, t in start["files"].items()
        if p.startswith("logs/")
    }


@template(TEMPLATES, "sequential")
def _t_backup_copy(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    src = rng.choice(sorted(start["files"]))
    dst = f"backup/{_base(src)}"
    req = say(
        rng,
        zh,
        [
            "Make a backup copy of {f} inside a new folder called backup.",
            "Create a folder named backup and put a copy of {f} in it.",
        ],
        ["新建一个 backup 文件夹，把 {f} 复制一份放进去。"],
        f=src,
    )
    content = start["files"][src]
    return Draft(
        req,
        lambda end: problems(_same_file(end, dst, content), _same_file(end, src, content)),
        {"source": src, "copy": dst},
    )


@template(TEMPLATES, "sequential")
def _t_count_errors(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    logs = {p: n for p, n in _logs(start).items() if n}
    if not logs:
        return None
    log = rng.choice(sorted(logs))
    out = f"reports/{_base(log).removesuffix('.log')}_errors.txt"
    req = say(
        rng,
        zh,
        [
            "Count the lines containing ERROR in {log} and write that number into {out}.",
            "How many ERROR lines are in {log}? Save the count to {out}.",
        ],
        ["统计 {log} 里包含 ERROR 的行数，把这个数字写进 {out}。"],
        log=log,
        out=out,
    )
    return Draft(
        req,
        lambda end: problems(_has_number(end, out, logs[log])),
        {"log": log, "count": logs[log], "out": out},
    )


@template(TEMPLATES, "single")
def _t_rename_note(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    src = rng.choice(sorted(f for f in start["files"] if f.startswith("notes/meeting_")))
    new = f"notes/{rng.choice(['minutes', 'meeting_notes', 'summary'])}_{_base(src).split('_')[1]}"
    req = say(
        rng,
        zh,
        ["Rename {src} to {new}.", "Please change the name of {src} to {new}."],
        ["把 {src} 重命名为 {new}。"],
        src=src,
        new=new,
    )
    content = start["files"][src]
    return Draft(
        req,
        lambda end: problems(
            (end["files"].get(new) == content, f"{new} should hold {src}'s content"), _gone(end, src)
        ),
        {"source": src, "new": new},
    )


@template(TEMPLATES, "parallel")
def _t_archive_csvs(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    csvs = sorted(f for f in start["files"] if _parent(f) == "data" and f.endswith(".csv"))
    req = say(
        rng,
        zh,
        [
            "Move all CSV files from data/ into a new folder data/archive.",
            "Create data/archive and move every .csv file of the data folder into it.",
        ],
        ["新建 data/archive 文件夹，把 data 里的所有 CSV 文件都移进去。"],
    )

    def check(end: dict[str, Any]) -> list[str]:
        out = []
        for f in csvs:
            moved = f"data/archive/{_base(f)}"
            out += problems(
                (end["files"].get(moved) == start["files"][f], f"{moved} is missing"), _gone(end, f)
            )
        return out

    return Draft(req, check, {"files": csvs})


@template(TEMPLATES, "single")
def _t_append_todo(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    old = start["files"]["notes/todo.md"]
    options = [t for t in _TODO if t not in old]
    if not options:
        return None
    item = rng.choice(options)
    req = say(
        rng,
        zh,
        [
            "Add '{item}' as a new line at the end of notes/todo.md.",
            "Put '{item}' on my to-do list (notes/todo.md), at the end.",
        ],
        ["在 notes/todo.md 末尾加一行：{item}"],
        item=item,
    )

    def check(end: dict[str, Any]) -> list[str]:
        text = end["files"].get("notes/todo.md", "")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return problems(
            (text.startswith(old.rstrip("\n")), "the old lines of notes/todo.md should be kept"),
            (bool(lines) and item in lines[-1], f"the last line of notes/todo.md should be {item!r}"),
        )

    return Draft(req, check, {"item": item})


@template(TEMPLATES, "sequential")
def _t_config_port(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    port = next(
        int(ln.split("=")[1]) for ln in start["files"]["config/app.ini"].splitlines() if ln.startswith("port")
    )
    out = rng.choice(["notes/port.txt", "reports/port.txt"])
    req = say(
        rng,
        zh,
        [
            "Look up the server port in config/app.ini and write it into {out}.",
            "Which port does config/app.ini set? Write the port number to {out}.",
        ],
        ["查一下 config/app.ini 里的端口号，写到 {out} 里。"],
        out=out,
    )
    return Draft(req, lambda end: problems(_has_number(end, out, port)), {"port": port, "out": out})


@template(TEMPLATES, "sequential")
def _t_delete_clean_logs(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    logs = _logs(start)
    clean = sorted(p for p, n in logs.items() if n == 0)
    kept = sorted(p for p, n in logs.items() if n)
    req = say(
        rng,
        zh,
        [
            "Delete every log file in logs/ that has no ERROR line in it.",
            "Clean up logs/: remove the logs without any ERROR, keep the others.",
        ],
        ["删除 logs 文件夹里没有任何 ERROR 行的日志文件，其他的保留。"],
    )
    return Draft(
        req,
        lambda end: problems(
            *(_gone(end, p) for p in clean),
            *((p in end["files"], f"{p} has errors and should be kept") for p in kept),
        ),
        {"delete": clean, "keep": kept},
    )


@template(TEMPLATES, "sequential")
def _t_find_note_copy(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    notes = sorted(f for f in start["files"] if f.startswith("notes/meeting_"))
    note = rng.choice(notes)
    project = start["files"][note].split("project ")[1].split(" ")[0]
    req = say(
        rng,
        zh,
        [
            "Find the meeting note in notes/ that mentions project {p} and copy it into a folder named shared.",
            "Which note talks about {p}? Copy that file into a new shared folder.",
        ],
        ["找到 notes 里提到 {p} 项目的会议记录，把它复制到 shared 文件夹。"],
        p=project,
    )
    dst = f"shared/{_base(note)}"
    content = start["files"][note]
    return Draft(
        req,
        lambda end: problems(_same_file(end, dst, content)),
        {"project": project, "note": note, "copy": dst},
    )


@template(TEMPLATES, "multi_turn")
def _t_new_project(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    free = [p for p in _PROJECTS if f"projects/{p}" not in start["folders"]]
    if len(free) < 2:
        return None
    first, second = rng.sample(free, 2)
    owner = rng.choice(_PEOPLE)
    line = f"Owner: {owner}"
    req = say(
        rng,
        zh,
        [
            "Create a folder projects/{a} with a README.md in it that says '{line}'.",
            "Start a new project folder projects/{a}; its README.md should read '{line}'.",
        ],
        ["新建 projects/{a} 文件夹，在里面建一个 README.md，内容写“{line}”。"],
        a=first,
        line=line,
    )
    follow = say(
        rng,
        zh,
        ["Actually, call the project {b}: rename that folder to projects/{b}."],
        ["其实项目应该叫 {b}，把这个文件夹改名为 projects/{b}。"],
        b=second,
    )
    readme = f"projects/{second}/README.md"
    return Draft(
        req,
        lambda end: problems(
            (line in end["files"].get(readme, ""), f"{readme} should say {line!r}"),
            _gone(end, f"projects/{first}"),
        ),
        {"first": first, "second": second, "line": line},
        [follow],
    )


@template(TEMPLATES, "multi_turn")
def _t_info_then_archive(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    f = rng.choice(sorted(p for p in start["files"] if p.startswith(("data/", "notes/", "文档/"))))
    req = say(rng, zh, ["How many lines does {f} have?", "How big is {f}?"], ["{f} 有多少行？"], f=f)
    follow = say(
        rng,
        zh,
        ["Thanks. Now move it into a new folder called archive."],
        ["好的，把它移到新建的 archive 文件夹里。"],
    )
    moved = f"archive/{_base(f)}"
    content = start["files"][f]
    return Draft(
        req,
        lambda end: problems(_same_file(end, moved, content), _gone(end, f)),
        {"file": f, "moved": moved},
        [follow],
    )


@template(TEMPLATES, "sequential")
def _t_largest_log_copy(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft | None:
    sizes = sorted(
        ((len(t.encode()), p) for p, t in start["files"].items() if _parent(p) == "logs"), reverse=True
    )
    if len(sizes) > 1 and sizes[0][0] == sizes[1][0]:
        return None
    big = sizes[0][1]
    req = say(
        rng,
        zh,
        [
            "Find the largest file in logs/ and copy it into reports/.",
            "Copy the biggest log file (by size) from logs/ to the reports folder.",
        ],
        ["找出 logs 里最大的文件，复制到 reports 文件夹。"],
    )
    dst = f"reports/{_base(big)}"
    content = start["files"][big]
    return Draft(
        req,
        lambda end: problems(_same_file(end, dst, content), _same_file(end, big, content)),
        {"largest": big, "copy": dst},
    )


@template(TEMPLATES, "sequential")
def _t_sales_total(start: dict[str, Any], rng: random.Random, zh: bool) -> Draft:
    csv = next(p for p in sorted(start["files"]) if p.startswith("data/sales_"))
    total = sum(int(row.split(",")[2]) for row in start["files"][csv].splitlines()[1:] if row)
    out = "reports/sales_total.txt"
    req = say(
        rng,
        zh,
        [
            "Add up the amount column of {csv} and write the total into {out}.",
            "What is the total amount in {csv}? Please save it to {out}.",
        ],
        ["把 {csv} 里 amount 一列加起来，总数写进 {out}。"],
        csv=csv,
        out=out,
    )
    return Draft(
        req, lambda end: problems(_has_number(end, out, total)), {"csv": csv, "total": total, "out": out}
    )


__all__ = ["FilesEnvironment", "FilesInstance", "TEMPLATES", "seed_tree"]
