"""Kernel launcher: isolates the current process, then execs the Jupyter kernel.

Run as a plain script (``python launcher.py CONFIG.json``), never imported by the host, so it
uses the standard library only (plus the sibling ``landlock.py``). Every layer is tried in turn;
what was actually applied is written to ``config["report"]`` as JSON before the exec, so the host
can tell the user which protections are active. With ``strict`` set, a layer that was asked for
and failed aborts the launch (exit status 3, reason on stderr).

Layers, in order:
1. join cgroups (pids/memory) prepared by the host;
2. network namespace (``unshare(CLONE_NEWNET)``): only an unconfigured loopback, so every
   connection fails; as non-root a user namespace is created first when the kernel allows it;
3. mount namespace: every mount becomes read-only, ``/tmp``, ``/var/tmp``, ``/run``,
   ``/dev/shm`` and ``/mnt`` are hidden behind empty read-only tmpfs, the working directory is
   bound read-write at its own path and at ``mount_at`` (``/mnt/data``), the state directory
   (HOME, TMPDIR, kernel sockets) read-write; ``/proc`` is remounted with ``hidepid=2``;
4. resource limits (``setrlimit``);
5. drop to an unprivileged uid/gid (root only);
6. Landlock: writes only beneath the writable directories, TCP bind/connect denied,
   signals to processes outside the sandbox denied (ABI >= 6);
7. ``execve`` the kernel with a clean environment.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

_FLAG_OPTS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}

# devices the kernel may open for writing under Landlock (ptys for IPython's ``!cmd``)
DEVICES = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/urandom",
    "/dev/random",
]
HIDDEN_DIRS = ("/tmp", "/var/tmp", "/run", "/dev/shm", "/mnt")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)

    ret = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(ret, f"mount({source!r}, {target!r}, {fstype!r})")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_points() -> list[tuple[str, int]]:
    """(mount point, per-mount flags) for every mount in this namespace, parents first."""
    result = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split()
            mp = _unescape(parts[4])
            flags = 0
            for opt in parts[5].split(","):
                flags |= _FLAG_OPTS.get(opt, 0)
            result.append((mp, flags))
    result.sort(key=lambda x: x[0].count("/") if x[0] != "/" else 0)
    return result


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _blocking_ancestor(path: str) -> str | None:
    """The topmost strict ancestor of ``path`` that others cannot traverse (``/root``, mode 700)."""
    cur = "/"
    for part in [p for p in os.path.abspath(path).split("/") if p][:-1]:
        cur = os.path.join(cur, part)
        try:
            st = os.stat(cur)
        except OSError:
            return None
        if not st.st_mode & 0o001:
            return cur
    return None


def _minimal(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(_under(p, q) for q in out):
            out.append(p)
    return out


def setup_mounts(
    writable: list[tuple[str, list[str]]], readable: list[str], hide: bool, report: dict
) -> None:
    """Make every mount read-only, hide shared and private directories behind empty read-only
    tmpfs, re-expose ``readable`` (read-only) and bind ``writable`` (host dir, targets) read-write."""
    masks = list(HIDDEN_DIRS) if hide else []
    masks = [d for d in masks if os.path.isdir(d) and not os.path.islink(d)]
    for p in readable + [t for _, ts in writable for t in ts] + [s for s, _ in writable]:
        a = _blocking_ancestor(p)
        if a:
            masks.append(a)
    masks = _minimal(masks)
    wfds = [(os.open(src, os.O_PATH | os.O_DIRECTORY), targets) for src, targets in writable]
    rfds = []
    for p in readable:
        if any(_under(p, m) for m in masks):
            rfds.append((os.open(p, os.O_PATH | os.O_DIRECTORY), p))
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    failed = []
    for mp, flags in mount_points():
        if _under(mp, "/proc"):
            continue
        try:
            mount(None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except OSError as e:
            failed.append(f"{mp}: {e.strerror}")
    if failed:
        # a mount we could not make read-only stays writable: report it (strict mode aborts)
        report["readonly_failed"] = failed
    for d in masks:
        mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for fd, target in rfds:
        os.makedirs(target, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for fd, targets in wfds:
        for t in targets:
            os.makedirs(t, exist_ok=True)  # only possible inside a fresh tmpfs; elsewhere it exists
            mount(f"/proc/self/fd/{fd}", t, None, MS_BIND | MS_REC)
            mount(None, t, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
    for fd, _ in wfds + rfds:
        os.close(fd)
    for d in masks:
        mount(None, d, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    report["masked"] = masks


def enter_userns() -> None:
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


def apply_rlimits(limits: dict[str, int], report: dict) -> None:
    applied = {}
    for name, value in limits.items():
        res = getattr(resource, "RLIMIT_" + name)
        _soft, hard = resource.getrlimit(res)
        v = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(res, (v, v))
        applied[name] = v
    report["rlimits"] = applied


def main(config_path: str) -> None:
    with open(config_path) as f:
        cfg = json.load(f)
    strict = bool(cfg.get("strict"))
    report: dict = {"layers": [], "errors": []}
    is_root = os.geteuid() == 0
    # opened now, while privileged: the report lives in a directory the sandbox cannot write
    report_file = open(cfg["report"], "w")  # noqa: SIM115
    cfg["_report_file"] = report_file

    def fail(layer: str, err: BaseException) -> None:
        report["errors"].append(f"{layer}: {err}")
        if strict and layer in cfg.get("required", []):
            _write_report(cfg, report)
            print(f"calltune sandbox: required isolation layer {layer!r} failed: {err}", file=sys.stderr)
            sys.exit(3)

    # the sibling Landlock module (stdlib only) is loaded now: the mount namespace below hides
    # this script's folder when it lies under a masked directory (a checkout in /tmp), and the
    # dropped uid may not be allowed to read it
    landlock = None
    if cfg.get("landlock"):
        try:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import landlock
        except ImportError as e:
            fail("landlock", e)

    # 1. cgroups (joined while still privileged, before /sys becomes read-only)
    for cg in cfg.get("cgroups", []):
        try:
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            report["layers"].append("cgroup:" + cg.split("/sys/fs/cgroup/", 1)[-1].split("/", 1)[0])
        except OSError as e:
            fail("cgroup", e)

    # 2-3. namespaces
    want_net, want_mnt = bool(cfg.get("netns")), bool(cfg.get("mountns"))
    if want_net or want_mnt:
        flags = (CLONE_NEWNET if want_net else 0) | (CLONE_NEWNS if want_mnt else 0)
        try:
            if not is_root:
                enter_userns()
                report["layers"].append("userns")
            unshare(flags)
            if want_net:
                report["layers"].append("netns")
        except OSError as e:
            want_mnt = False
            fail("netns", e)
        if want_mnt:
            try:
                writable = [
                    (cfg["workdir"], [cfg["workdir"]] + ([cfg["mount_at"]] if cfg.get("mount_at") else []))
                ]
                writable.append((cfg["statedir"], [cfg["statedir"]]))
                setup_mounts(writable, cfg.get("readable", []), hide=True, report=report)
                report["layers"].append("mountns-readonly")
                if report.get("readonly_failed"):
                    fail(
                        "mountns",
                        OSError("could not make read-only: " + "; ".join(report["readonly_failed"])),
                    )
            except OSError as e:
                fail("mountns", e)
            if is_root and cfg.get("hidepid"):
                try:
                    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
                    report["layers"].append("proc-hidepid")
                except OSError as e:
                    fail("hidepid", e)

    # 4. resource limits
    try:
        apply_rlimits(cfg.get("rlimits", {}), report)
        report["layers"].append("rlimits")
    except (OSError, ValueError) as e:
        fail("rlimits", e)

    # 5. unprivileged uid
    uid, gid = cfg.get("uid"), cfg.get("gid")
    if uid is not None and is_root:
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            report["layers"].append(f"uid:{uid}")
        except OSError as e:
            fail("uid", e)

    # 6. landlock (also sets no_new_privs)
    if landlock is not None:
        try:
            dirs = [cfg["workdir"], cfg["statedir"]] + (
                [cfg["mount_at"]] if cfg.get("mount_at") and want_mnt else []
            )
            info = landlock.restrict_self(dirs, writable_files=DEVICES)
            report["landlock"] = info
            report["layers"].append(f"landlock-abi{info['abi']}")
        except Exception as e:  # noqa: BLE001 - reported, and fatal in strict mode
            fail("landlock", e)
    else:
        try:
            _libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: setuid binaries cannot regain root
        except OSError:
            pass

    _write_report(cfg, report)
    os.chdir(cfg["cwd"])
    argv = cfg["kernel_argv"]
    os.execve(argv[0], argv, cfg["env"])


def _write_report(cfg: dict, report: dict) -> None:
    f = cfg.get("_report_file")
    if f is None:
        return
    try:
        json.dump(report, f)
        f.close()
    except OSError:
        pass
    cfg["_report_file"] = None


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(4)
