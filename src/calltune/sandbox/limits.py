"""The limits every sandbox kernel runs under."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    """Limits applied to every kernel.

    timeout: wall-clock seconds per cell (then SIGINT; the kernel is restarted if the cell does
    not stop within ``interrupt_grace`` s). memory_mb: address space per process (RLIMIT_AS) and,
    where a memory cgroup is writable, the whole sandbox. cpu_s: CPU seconds per process over the
    kernel's life (RLIMIT_CPU; the kernel is restarted when it runs out). max_procs: processes and
    threads (RLIMIT_NPROC on the sandbox's own uid, plus a pids cgroup). max_file_mb: largest file
    (RLIMIT_FSIZE). max_output_chars: text kept per cell (head and tail, marker between).
    max_output_bytes: output collected per cell before the cell is interrupted.
    """

    timeout: float = 30.0
    memory_mb: int = 1024
    cpu_s: int = 600
    max_procs: int = 64
    max_file_mb: int = 100
    max_open_files: int = 256
    max_output_chars: int = 20_000
    max_output_bytes: int = 2_000_000
    interrupt_grace: float = 3.0
    startup_timeout: float = 60.0
