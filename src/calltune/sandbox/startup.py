"""Code the host runs inside the kernel: at startup (figure reporting, the audit-hook fallback)
and after a cell that left background processes (reaping their zombies)."""

from __future__ import annotations

from .plan import IsolationPlan

# run silently in the kernel after stray processes were killed, so their zombies do not keep
# counting against the process limit
REAP_CODE = """import os as _o
try:
    while _o.waitpid(-1, _o.WNOHANG)[0] > 0:
        pass
except ChildProcessError:
    pass
del _o"""

# The inline backend displays the figures a cell leaves open; code that switched matplotlib to a
# non-interactive backend (``matplotlib.use("Agg")``, where ``plt.show()`` draws nothing) gets the
# same after every cell, and its figures are closed as the inline backend closes its own. A figure
# drawn since its last change (by ``savefig``) is not displayed again: the file the code wrote is
# reported instead. Registered before pyplot registers its own post-execute hooks (which redraw
# stale figures in interactive mode), so it runs first.
SHOW_OPEN_FIGURES = """def _calltune_show_open_figures(_ip=get_ipython()):
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None or not plt.get_fignums() or "inline" in str(plt.get_backend()):
        return
    import base64
    import io

    from IPython.display import display

    try:
        for num in plt.get_fignums():
            fig = plt.figure(num)
            if fig.stale and (fig.axes or fig.lines):
                buf = io.BytesIO()
                fig.savefig(buf, format="png", bbox_inches="tight")
                display({"image/png": base64.b64encode(buf.getvalue()).decode("ascii")}, raw=True)
    except Exception:
        _ip.showtraceback()
    finally:
        plt.close("all")


get_ipython().events.register("post_execute", _calltune_show_open_figures)
del _calltune_show_open_figures
"""

# Last-resort guard for machines without namespaces or Landlock: a Python audit hook (it cannot be
# removed once added, but code that reaches C directly, e.g. through ctypes, is not stopped).
AUDIT_GUARD = """import os as _os, sys as _sys


def _calltune_guard(event, args, _os=_os, _allowed={allowed!r}, _net={net!r}, _fs={fs!r}):
    if event in ("os.kill", "os.killpg") and (args[0] <= 1 or args[0] == _os.getppid()):
        raise PermissionError("signalling processes outside the sandbox is not allowed")
    if _net and event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"):
        raise PermissionError("network access is disabled in this sandbox")
    if _fs and event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
        raise PermissionError("starting programs is disabled in this sandbox (no OS-level isolation here)")
    if _fs and event == "open" and args[0] is not None and not isinstance(args[0], int):
        mode, flags = args[1] or "", args[2] or 0
        if any(c in mode for c in "wax+") or flags & 3:
            p = _os.path.realpath(_os.fsdecode(args[0]))
            if not any(p == a or p.startswith(a.rstrip("/") + "/") for a in _allowed):
                raise PermissionError(f"writing outside the sandbox working directory is not allowed: {{p}}")


_sys.addaudithook(_calltune_guard)
del _calltune_guard, _os, _sys
"""


# The host stops a cell whose output passes ``max_output_bytes``, but a print loop keeps writing
# until the interrupt lands, and the kernel buffers all of it: a flood of small writes on a slow
# machine grew the buffer past the address-space limit and the kernel died (SIGABRT in a C
# allocation). So the kernel keeps at most one byte past the cap per cell (the host still sees
# the cap passed and stops the cell) and drops the rest; each cell starts a fresh count.
OUTPUT_CAP = """def _calltune_cap_output(_ip=get_ipython(), _cap={cap}):
    import sys

    used = [0]

    def reset(*_args):
        used[0] = 0

    _ip.events.register("pre_execute", reset)
    for stream in (sys.stdout, sys.stderr):
        write = stream.write

        def capped(text, _write=write):
            n = len(text)
            left = _cap + 1 - used[0]
            used[0] += n
            if n <= left:
                return _write(text)
            if left > 0:
                _write(text[:left])
            return n

        stream.write = capped


_calltune_cap_output()
del _calltune_cap_output
"""


def startup_code(plan: IsolationPlan, writable: list[str], max_output_bytes: int) -> str:
    """The kernel's startup file: the audit hook where the operating system enforces nothing
    (``writable``: the directories the code may write), the per-cell output cap, then figure
    reporting."""
    if not (plan.audit_net or plan.audit_fs):
        guard = "# no in-kernel guard: the operating system enforces the isolation\n"
    else:
        guard = AUDIT_GUARD.format(allowed=writable, net=plan.audit_net, fs=plan.audit_fs)
    return guard + "\n\n" + OUTPUT_CAP.format(cap=int(max_output_bytes)) + "\n\n" + SHOW_OPEN_FIGURES
