"""Files a cell wrote, copied out of the sandbox into a folder on the host.

The working directory is the sandbox's (a temporary one is deleted on ``close()``), and the
paths the code sees (``/mnt/data/figure_1.png``) do not exist on the host. With
``Sandbox(out_dir=...)`` every file a cell creates or changes there — figures included — is
copied to ``out_dir`` (same relative path) and the cell's observation names the copy.

The working directory belongs to the sandbox, which may plant symlinks, FIFOs or hard links
there: every path component is opened relative to its parent with ``O_NOFOLLOW``, only regular
files with one link are copied, and never more than ``max_files`` / ``max_bytes`` per cell.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from .result import CellResult
from .workspace import Workspace

#: what a snapshot keeps per file (relative path → (mtime in ns, size))
Snapshot = dict[str, tuple[int, int]]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class OutputCopier:
    """Copies what each cell wrote in ``workspace`` to ``out_dir`` (created on the first copy)."""

    def __init__(
        self,
        workspace: Workspace,
        out_dir: str | os.PathLike[str],
        *,
        max_files: int = 50,
        max_bytes: int = 200 * 1024 * 1024,
        max_entries: int = 5000,
    ) -> None:
        self._ws = workspace
        self.out_dir = Path(out_dir).expanduser().resolve()
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        #: every copy made so far (host paths), in order
        self.copied: list[str] = []

    def snapshot(self) -> Snapshot:
        """The visible files of the working directory (no dot files, no symlinks followed)."""
        out: Snapshot = {}
        root = self._ws.path
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or len(out) >= self.max_entries:
                    continue
                p = os.path.join(dirpath, name)
                with contextlib.suppress(OSError):
                    st = os.lstat(p)
                    if stat.S_ISREG(st.st_mode):
                        out[os.path.relpath(p, root)] = (st.st_mtime_ns, st.st_size)
        return out

    def copy_new(self, before: Snapshot, res: CellResult) -> None:
        """Copy the files created or changed since ``before`` and record them in ``res.copies``
        (the path as the code sees it → the host copy)."""
        changed = [rel for rel, sig in self.snapshot().items() if before.get(rel) != sig]
        skipped = max(0, len(changed) - self.max_files)
        budget = self.max_bytes
        for rel in changed[: self.max_files]:
            dst = self.out_dir / rel
            n = self._copy(rel, dst, budget)
            if n is None:
                skipped += 1
                continue
            budget -= n
            res.copies[self._ws.sandbox_path(self._ws.path / rel)] = str(dst)
            self.copied.append(str(dst))
        if skipped:
            res.notes.append(f"[{skipped} file(s) the code wrote were not copied for the user (limits)]")

    def _copy(self, rel: str, dst: Path, budget: int) -> int | None:
        """Copy one file of the working directory to ``dst``; its size, or None when it is not a
        plain file any more, or is larger than ``budget``."""
        parts = Path(rel).parts
        fds: list[int] = []
        try:
            fds.append(os.open(self._ws.path, _DIR_FLAGS))
            for part in parts[:-1]:
                fds.append(os.open(part, _DIR_FLAGS, dir_fd=fds[-1]))
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=fds[-1])
        except OSError:
            return None
        finally:
            for d in fds:
                os.close(d)
        with os.fdopen(fd, "rb") as src:
            st = os.fstat(src.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size > budget:
                return None
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                with open(dst, "wb") as f:
                    shutil.copyfileobj(src, f)
            except OSError:
                return None
        return st.st_size
