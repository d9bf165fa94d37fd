"""Which isolation layers a sandbox uses on this machine, and the report of what is active."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import SandboxError
from .isolation import Capabilities, python_paths
from .limits import Limits

IsolationMode = Literal["auto", "strict", "none"]


@dataclass(frozen=True)
class IsolationPlan:
    """The layers asked of the launcher (``netns`` ... ``drop_uid``), the in-kernel audit-hook
    fallbacks (``audit_net``, ``audit_fs``) and where the working directory is mounted."""

    mode: IsolationMode
    netns: bool
    mountns: bool
    landlock: bool
    drop_uid: bool
    audit_net: bool
    audit_fs: bool
    mount_at: str | None


def python_world_readable() -> bool:
    """Whether others can reach the Python installation (so a dropped uid can still run it)."""
    for p in python_paths():
        cur = Path("/")
        for part in Path(p).parts[1:]:
            cur = cur / part
            with contextlib.suppress(OSError):
                if not cur.stat().st_mode & 0o001:
                    return False
    return True


def caps_text(caps: Capabilities) -> str:
    return (
        f"root={caps.root} netns={caps.netns} mountns={caps.mountns} userns={caps.userns} "
        f"landlock_abi={caps.landlock_abi}"
    )


def plan_isolation(mode: IsolationMode, caps: Capabilities, mount_at: str | None) -> IsolationPlan:
    """The strongest layers ``caps`` allow in ``mode``; raises :class:`SandboxError` when
    ``mode`` is "strict" and the machine cannot enforce both the network and the filesystem."""
    use_ns = mode != "none" and caps.netns
    use_mnt = mode != "none" and caps.mountns
    use_landlock = mode != "none" and caps.landlock_abi >= 1
    drop_uid = caps.root and mode != "none" and (use_mnt or python_world_readable())
    if mode == "strict":
        net_ok = use_ns or caps.landlock_abi >= 4
        fs_ok = use_mnt or use_landlock
        if not (net_ok and fs_ok):
            raise SandboxError(
                "isolation='strict' needs a network namespace or Landlock ABI >= 4 for the network and a "
                f"mount namespace or Landlock for the filesystem; this machine offers: {caps_text(caps)}"
            )
    return IsolationPlan(
        mode=mode,
        netns=use_ns,
        mountns=use_mnt,
        landlock=use_landlock,
        drop_uid=drop_uid,
        audit_net=mode != "none" and not use_ns and caps.landlock_abi < 4,
        audit_fs=mode != "none" and not use_mnt and not use_landlock,
        mount_at=mount_at if use_mnt and mount_at else None,
    )


def landlock_status(plan: IsolationPlan, report: dict[str, Any]) -> str:
    """What Landlock does for the sandbox, in words (``calltune sandbox info``)."""
    ll = report.get("landlock") or {}
    if ll:
        parts = ["writes only beneath the working and state directories"]
        if ll.get("tcp_denied"):
            parts.append("TCP bind/connect denied")
        if ll.get("signals_scoped"):
            parts.append("signals to outside processes denied")
        return f"active (ABI {ll.get('abi')}): " + ", ".join(parts)
    if plan.mode == "none":
        return "off (isolation 'none')"
    if not plan.landlock:
        return "not available on this kernel"
    errors = [e for e in report.get("errors", []) if e.startswith("landlock")]
    return "failed: " + ("; ".join(errors) if errors else "no report from the launcher")


def isolation_report(
    plan: IsolationPlan, report: dict[str, Any], limits: Limits, cgroups: list[str], sandbox_dir: str
) -> dict[str, Any]:
    """What protects the sandbox: ``report`` is what the launcher applied, ``cgroups`` the
    cgroup kinds in use (``Sandbox.isolation``)."""
    layers = list(report.get("layers", []))
    ll = report.get("landlock") or {}
    net = []
    if "netns" in layers:
        net.append("network namespace (no interfaces up)")
    if ll.get("tcp_denied"):
        net.append("landlock (TCP bind/connect denied)")
    if plan.audit_net:
        net.append("python audit hook (socket calls refused; bypassable from C code)")
    fs = []
    if "mountns-readonly" in layers:
        fs.append(f"read-only mount namespace, writable: {sandbox_dir} and a private HOME/TMPDIR")
    if ll:
        fs.append("landlock (writes only beneath the working and state directories)")
    if plan.audit_fs:
        fs.append("python audit hook (writes outside refused; bypassable from C code)")
    user = next((layer for layer in layers if layer.startswith("uid:")), None)
    return {
        "mode": plan.mode,
        "network": net or ["none"],
        "filesystem": fs or ["none"],
        "user": f"unprivileged uid {user[4:]}" if user else f"same uid as the host ({os.getuid()})",
        "signals": "other uid" if user else ("landlock signal scope" if ll.get("signals_scoped") else "none"),
        "landlock": landlock_status(plan, report),
        "limits": {
            "timeout_s": limits.timeout,
            "memory_mb": limits.memory_mb,
            "cpu_s": limits.cpu_s,
            "max_procs": limits.max_procs
            if ("NPROC" in report.get("rlimits", {}) or "cgroup:pids" in layers)
            else None,
            "max_file_mb": limits.max_file_mb,
            "max_output_chars": limits.max_output_chars,
            "cgroups": cgroups,
        },
        "layers": layers,
        "errors": list(report.get("errors", [])),
    }


def describe_isolation(iso: dict[str, Any], limits: Limits) -> str:
    """One line of an :func:`isolation_report`."""
    return (
        f"network: {'; '.join(iso['network'])} | filesystem: {'; '.join(iso['filesystem'])} | "
        f"user: {iso['user']} | limits: {limits.timeout:g} s/cell, {limits.memory_mb} MB, "
        f"{iso['limits']['max_procs'] or 'unlimited'} procs, cgroups {iso['limits']['cgroups'] or 'none'}"
    )
