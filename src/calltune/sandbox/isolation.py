"""Host-side isolation helpers: what the machine allows, sandbox uids, cgroups, process cleanup.

The kernel process itself is isolated by ``launcher.py``; this module prepares what the launcher
needs (a free uid, cgroup directories) and cleans up after it (kill every process the sandbox
left behind, remove cgroups).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import landlock
from .errors import SandboxError

UID_RANGE = (200_000, 299_999)
_LOCK_DIR = Path("/tmp/calltune-sandbox-uids")
CGROUP_V1 = Path("/sys/fs/cgroup")


@dataclass
class Capabilities:
    """What this machine and process allow (probed once)."""

    root: bool
    netns: bool
    mountns: bool
    userns: bool
    landlock_abi: int
    cgroup_pids: Path | None
    cgroup_memory: Path | None
    notes: list[str] = field(default_factory=list)


_CAPS: Capabilities | None = None


def _try_unshare(args: list[str]) -> bool:
    try:
        r = subprocess.run(["unshare", *args, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def _own_cgroup_v1(controller: str) -> Path | None:
    """Our own cgroup directory for a v1 controller, if it is mounted and writable."""
    base = CGROUP_V1 / controller
    if not base.is_dir():
        return None
    rel = "/"
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, ctrls, path = line.split(":", 2)
            if controller in ctrls.split(","):
                rel = path
    d = base / rel.lstrip("/")
    probe = d / f"calltune-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return None
    return d


def probe_capabilities(refresh: bool = False) -> Capabilities:
    """Probe (once per process) which isolation mechanisms work here."""
    global _CAPS
    if _CAPS is not None and not refresh:
        return _CAPS
    root = os.geteuid() == 0
    if root:
        netns = _try_unshare(["--net"])
        mountns = _try_unshare(["--mount"])
        userns = False
    else:
        userns = _try_unshare(["--user", "--map-current-user"]) or _try_unshare(["--user"])
        netns = userns and _try_unshare(["--user", "--map-current-user", "--net"])
        mountns = userns and _try_unshare(["--user", "--map-current-user", "--mount"])
    caps = Capabilities(
        root=root,
        netns=netns,
        mountns=mountns,
        userns=userns,
        landlock_abi=landlock.abi_version(),
        cgroup_pids=_own_cgroup_v1("pids") if root else None,
        cgroup_memory=_own_cgroup_v1("memory") if root else None,
    )
    _CAPS = caps
    return caps


class UidLease:
    """An exclusive, otherwise unused uid for one sandbox (held with a lock file)."""

    def __init__(self) -> None:
        _LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        used = uids_in_use()
        for _ in range(200):
            uid = random.randint(*UID_RANGE)
            if uid in used:
                continue
            fd = os.open(_LOCK_DIR / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid = uid
            self._fd = fd
            return
        raise SandboxError("could not find a free sandbox uid")

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(_LOCK_DIR / str(self.uid))
            os.close(self._fd)
            self._fd = -1


def _proc_uid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def uids_in_use() -> set[int]:
    return {u for p in os.listdir("/proc") if p.isdigit() and (u := _proc_uid(p)) is not None}


def _is_zombie(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def pids_of_uid(uid: int, include_zombies: bool = False) -> list[int]:
    """Processes owned by ``uid`` (zombies, which only wait to be reaped, left out by default)."""
    return [
        int(p)
        for p in os.listdir("/proc")
        if p.isdigit() and _proc_uid(p) == uid and (include_zombies or not _is_zombie(p))
    ]


def children_of(pid: int) -> list[int]:
    """All descendants of ``pid`` (used when the sandbox shares our uid)."""
    parents: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class Cgroups:
    """Per-sandbox cgroup v1 directories (pids and memory) when writable."""

    def __init__(self, name: str, caps: Capabilities, memory_mb: int | None, max_pids: int) -> None:
        self.dirs: list[Path] = []
        self.kinds: list[str] = []
        if caps.cgroup_pids is not None:
            d = caps.cgroup_pids / name
            try:
                d.mkdir(exist_ok=True)
                (d / "pids.max").write_text(str(max_pids))
                self.dirs.append(d)
                self.kinds.append("pids")
            except OSError:
                pass
        if caps.cgroup_memory is not None and memory_mb:
            d = caps.cgroup_memory / name
            try:
                d.mkdir(exist_ok=True)
                (d / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
                with contextlib.suppress(OSError):
                    (d / "memory.swappiness").write_text("0")
                self.dirs.append(d)
                self.kinds.append("memory")
            except OSError:
                pass

    def pids(self, include_zombies: bool = False) -> list[int]:
        out: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                out.update(int(x) for x in (d / "cgroup.procs").read_text().split())
        return sorted(p for p in out if include_zombies or not _is_zombie(str(p)))

    def remove(self) -> None:
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    for pid in self.pids():
                        with contextlib.suppress(OSError):
                            os.kill(pid, signal.SIGKILL)
                    time.sleep(0.02)
        self.dirs = []


def kill_pids(pids: list[int], keep: int | None = None) -> int:
    """SIGKILL every pid except ``keep``; returns how many were signalled."""
    n = 0
    for pid in pids:
        if pid == keep or pid == os.getpid():
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            n += 1
    return n


def python_paths() -> list[str]:
    """Directories the kernel's interpreter needs to read (the venv and its base installation)."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    return sorted(p for p in paths if p and os.path.isdir(p))
