"""Minimal Landlock bindings (Linux >= 5.13) through raw syscalls, standard library only.

This module is imported by the kernel launcher (``launcher.py``), which runs as a plain
script before the kernel starts, so it must not import anything outside the standard library.

Landlock is an unprivileged LSM: a process restricts itself (and every child) and can never
lift the restriction. calltune uses it for three things:

- filesystem: every write-type access is denied except beneath the allowed directories;
- network (ABI >= 4): TCP ``bind`` and ``connect`` are denied to every port;
- scopes (ABI >= 6): signals to processes outside the sandbox and abstract Unix sockets are denied.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from enum import IntFlag

try:
    from ..errors import CalltuneError
except ImportError:  # loaded by the kernel launcher as a plain module, outside the calltune package

    class CalltuneError(Exception):  # type: ignore[no-redef]
        """Stands in for ``calltune.errors.CalltuneError`` when this module runs on its own."""


_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

#: filesystem access rights, in the kernel's bit order (1 << 0 ...); REFER needs ABI 2, TRUNCATE ABI 3
FS = IntFlag(
    "FS",
    "EXECUTE WRITE_FILE READ_FILE READ_DIR REMOVE_DIR REMOVE_FILE MAKE_CHAR MAKE_DIR MAKE_REG MAKE_SOCK "
    "MAKE_FIFO MAKE_BLOCK MAKE_SYM REFER TRUNCATE",
)
#: network access rights (ABI 4)
NET = IntFlag("NET", "BIND_TCP CONNECT_TCP")
#: scopes (ABI 6)
SCOPE = IntFlag("SCOPE", "ABSTRACT_UNIX_SOCKET SIGNAL")

#: every write-type right of ABI 1: all of its rights (bits 0-12) but execute and the two reads
_WRITE_V1 = FS(2 * FS.MAKE_SYM - 1) & ~(FS.EXECUTE | FS.READ_FILE | FS.READ_DIR)


class LandlockError(CalltuneError, OSError):
    pass


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi_version() -> int:
    """The Landlock ABI version the running kernel offers (0 when Landlock is unavailable)."""
    try:
        libc = _libc()
    except OSError:
        return 0
    v = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return int(v) if v > 0 else 0


def write_rights(abi: int) -> int:
    rights = _WRITE_V1
    if abi >= 2:
        rights |= FS.REFER
    if abi >= 3:
        rights |= FS.TRUNCATE
    return rights


def restrict_self(
    writable_dirs: Iterable[str],
    writable_files: Iterable[str] = (),
    deny_tcp: bool = True,
    scope_signals: bool = True,
) -> dict[str, object]:
    """Restrict the calling process (and its future children) for good.

    Writes are allowed only beneath ``writable_dirs`` (and to the existing files beneath
    ``writable_files``, e.g. ``/dev/null``, ``/dev/pts``; nothing can be created there); reads
    and execution stay allowed. Returns a description of what was
    enforced. Raises :class:`LandlockError` when Landlock is unavailable or a call fails.
    """
    abi = abi_version()
    if abi < 1:
        raise LandlockError("Landlock is not available on this kernel")
    libc = _libc()
    handled_fs = write_rights(abi)
    handled_net = (NET.BIND_TCP | NET.CONNECT_TCP) if (deny_tcp and abi >= 4) else 0
    scoped = (SCOPE.SIGNAL | SCOPE.ABSTRACT_UNIX_SOCKET) if (scope_signals and abi >= 6) else 0
    attr = _RulesetAttr(handled_fs, handled_net, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        file_rights = FS.WRITE_FILE | (FS.TRUNCATE if abi >= 3 else 0)
        rules = [(d, handled_fs) for d in writable_dirs] + [(f, file_rights) for f in writable_files]
        for path, rights in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # e.g. a device this machine does not have
            if not os.path.isdir(path):
                rights &= file_rights  # only file rights are valid on a file
            try:
                rule = _PathBeneathAttr(rights, pfd)
                r = libc.syscall(
                    _SYS_ADD_RULE,
                    ctypes.c_int(fd),
                    ctypes.c_int(_RULE_PATH_BENEATH),
                    ctypes.byref(rule),
                    ctypes.c_uint32(0),
                )
                if r < 0:
                    err = ctypes.get_errno()
                    raise LandlockError(err, f"landlock_add_rule({path}): {os.strerror(err)}")
            finally:
                os.close(pfd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise LandlockError(err, f"prctl(NO_NEW_PRIVS): {os.strerror(err)}")
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) < 0:
            err = ctypes.get_errno()
            raise LandlockError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(fd)
    return {"abi": abi, "tcp_denied": bool(handled_net), "signals_scoped": bool(scoped & SCOPE.SIGNAL)}
