"""Stopping processes that are not our children, by identity (pid *and* /proc start time).

``dev down`` stops a supervisor some earlier ``dev up`` started, and a new supervisor
stops children an earlier, crashed supervisor left behind: neither can ``wait()`` for
them, and a bare pid may by now belong to a stranger. Every signal goes through
:func:`taxiway.runtime.process.signal_group`, which rechecks the identity first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable, Mapping
from typing import Any

from taxiway.runtime import process

POLL_SECONDS = 0.02


def from_record(record: Mapping[str, Any] | None) -> process.ProcessId | None:
    """A ``{"pid": N, "start_time": T}`` record (as in supervisor.json) as an identity."""
    if not record:
        return None
    pid, start_time = record.get("pid"), record.get("start_time")
    if isinstance(pid, int) and isinstance(start_time, int):
        return process.ProcessId(pid, start_time)
    return None


def to_record(target: process.ProcessId | None) -> dict[str, int | None]:
    if target is None:
        return {"pid": None, "start_time": None}
    return {"pid": target.pid, "start_time": target.start_time}


def alive(targets: Iterable[process.ProcessId]) -> list[process.ProcessId]:
    return [target for target in targets if process.alive(target)]


def wait_gone(targets: Iterable[process.ProcessId], seconds: float) -> list[process.ProcessId]:
    """Wait until every target is gone or ``seconds`` pass; answer those still alive."""
    deadline = time.monotonic() + seconds
    left = alive(targets)
    while left and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)  # polling: these are not our children, we cannot wait() on them
        left = alive(left)
    return left


def terminate(
    targets: Iterable[process.ProcessId], *, grace_seconds: float, kill_seconds: float = 5.0
) -> list[process.ProcessId]:
    """SIGTERM each target, wait up to the grace, then SIGKILL its group; answer survivors.

    SIGTERM goes to the process alone, so it can stop its own helpers in order; only the
    SIGKILL after a missed grace goes to its whole process group.
    """
    left = alive(targets)
    for target in left:
        if process.alive(target):  # identity rechecked right before the signal
            with contextlib.suppress(ProcessLookupError):
                os.kill(target.pid, signal.SIGTERM)
    left = wait_gone(left, grace_seconds)
    for target in left:
        process.signal_group(target, signal.SIGKILL)
    return wait_gone(left, kill_seconds)
