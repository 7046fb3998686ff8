"""Process identity on Linux: is *this* process (not another with its pid) still alive?

Used by the ``local`` driver and the shim. A pid alone is not an identity: after a process
exits the kernel may hand its pid to an unrelated process, and a satellite re-adopting
instances from state files would then signal a stranger. A process is identified by its
pid *and* its start time (field 22 of ``/proc/<pid>/stat``, clock ticks since boot), which
no later holder of the same pid can share.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessId:
    pid: int
    start_time: int


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) from /proc, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            raw = file.read().decode("ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def identify(pid: int) -> ProcessId | None:
    stat = _stat(pid)
    return None if stat is None else ProcessId(pid=pid, start_time=stat[1])


def alive(process: ProcessId) -> bool:
    """True while the very process is running (zombies and pid reuse count as gone)."""
    stat = _stat(process.pid)
    if stat is None:
        return False
    state, start_time = stat
    return start_time == process.start_time and state not in ("Z", "X")


def signal_group(process: ProcessId, signum: signal.Signals) -> None:
    """Signal the process and its process group (instances lead their own session).

    Rechecks identity first, so a reused pid is never signalled.
    """
    if not alive(process):
        return
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signum)
        else:
            os.kill(process.pid, signum)
    except ProcessLookupError:
        pass
