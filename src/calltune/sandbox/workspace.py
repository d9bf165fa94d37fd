"""The sandbox's working directory on the host: paths as the code sees them, uploads, ownership."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (never following or replacing a symlink the sandbox may have planted)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def upload_source(path: str | os.PathLike[str], name: str | None = None) -> tuple[Path, str]:
    """The host file to upload and its name in the working directory (both checked)."""
    src = Path(path)
    if not src.is_file():
        raise FileNotFoundError(f"cannot upload {str(path)!r}: no such file")
    fname = name or src.name
    if "/" in fname or fname in ("", ".", ".."):
        raise ValueError(f"invalid upload name {fname!r}")
    return src, fname


class Workspace:
    """The host directory the code works in.

    ``path``: the host directory (a temporary one, removed by :meth:`remove`, when None is given).
    ``mount_at``: where the code sees it when a mount namespace binds it there (else its host path).
    ``uid``: the sandbox's own uid once it has one; files put here are given to it.
    """

    def __init__(self, workdir: str | os.PathLike[str] | None = None) -> None:
        self.owned = workdir is None
        self.path = Path(tempfile.mkdtemp(prefix="calltune-work-") if workdir is None else workdir).resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        self.mount_at: str | None = None
        self.uid: int | None = None

    @property
    def sandbox_dir(self) -> str:
        return self.mount_at or str(self.path)

    def sandbox_path(self, host_path: str | os.PathLike[str]) -> str:
        rel = Path(host_path).resolve().relative_to(self.path)
        return str(Path(self.sandbox_dir) / rel)

    def host_path(self, sandbox_path: str) -> Path:
        p = Path(sandbox_path)
        if not p.is_absolute():
            p = Path(self.sandbox_dir) / p
        for base in {self.sandbox_dir, str(self.path)}:
            with contextlib.suppress(ValueError):
                rel = p.relative_to(base)
                host = (self.path / rel).resolve()
                if host == self.path or self.path in host.parents:
                    return host
        raise ValueError(f"{sandbox_path!r} is outside the sandbox working directory {self.sandbox_dir}")

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file())

    def put(self, name: str, data: bytes) -> Path:
        """Write ``data`` as ``name`` (replacing a file or symlink, never a directory)."""
        dst = self.path / name
        if dst.is_symlink() or dst.exists():
            if dst.is_dir() and not dst.is_symlink():
                raise IsADirectoryError(f"cannot upload over the directory {dst}")
            dst.unlink()
        write_new_file(dst, data)
        self.give(dst)
        return dst

    def give(self, path: Path) -> None:
        """Hand a file the host wrote to the sandbox's uid (symlinks are not followed)."""
        if self.uid is not None:
            with contextlib.suppress(OSError):
                os.lchown(path, self.uid, self.uid)

    def hand_over(self, uid: int) -> None:
        """Make the directory and everything in it the sandbox uid's, and private to it."""
        self.uid = uid
        os.chown(self.path, uid, uid)
        os.chmod(self.path, 0o700)  # other sandboxes (other uids) cannot read it
        for p in self.path.rglob("*"):
            with contextlib.suppress(OSError):
                os.lchown(p, uid, uid)

    def give_back(self) -> None:
        """Give the directory back to the host user, so a later sandbox that happens to get the same
        uid cannot touch these files (symlinks are not followed)."""
        uid, gid = os.getuid(), os.getgid()
        with contextlib.suppress(OSError):
            os.chown(self.path, uid, gid)
            os.chmod(self.path, 0o755)
        for root, dirs, files in os.walk(self.path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    os.lchown(os.path.join(root, name), uid, gid)

    def remove(self) -> None:
        """Delete the directory if it is a temporary one this workspace created."""
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)
