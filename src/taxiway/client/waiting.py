"""Waiting for a revision to be ready in every region of an environment.

Deploy and rollback both call :func:`wait_until_ready` after pointing an environment at a
revision. It polls ``GET /v1/status`` (the control plane has no status long poll), hands
every assessment to a callback for display, and ends when every region reports the
revision ready, when one reports it failed (:class:`RolloutFailed`), or at the deadline
(:class:`RolloutTimedOut`). The clock and the sleep are arguments, so tests run it in
virtual time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from taxiway.client.http import ControlPlane
from taxiway.errors import TaxiwayError, TransientError
from taxiway.plan import readiness

# Satellites report every few seconds; polling faster than once a second shows nothing new.
POLL_SECONDS = 1.0


class RolloutFailed(TaxiwayError):
    """A region reported the revision failed: an instance cannot become ready."""

    code = "rollout-failed"

    def __init__(self, progress: readiness.Progress) -> None:
        self.progress = progress
        names = ", ".join(r.region for r in progress.failed)
        super().__init__(
            f"{progress.service} revision {progress.revision} failed in {progress.environment} ({names})"
        )


class RolloutTimedOut(TaxiwayError):
    """The deadline passed before every region reported the revision ready."""

    code = "rollout-timed-out"

    def __init__(self, progress: readiness.Progress, seconds: float, last_error: TaxiwayError | None) -> None:
        self.progress = progress
        why = f"; last error: {last_error}" if last_error else ""
        super().__init__(
            f"{progress.service} revision {progress.revision} was not ready in {progress.environment} "
            f"after {seconds:g}s; not ready: {', '.join(progress.pending)}{why}"
        )


def wait_until_ready(
    cp: ControlPlane,
    service: str,
    environment: str,
    revision: int,
    regions: Sequence[str],
    *,
    timeout: float,
    on_progress: Callable[[readiness.Progress], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = POLL_SECONDS,
) -> readiness.Progress:
    """Poll until ``revision`` is ready in every region; the last assessment on success."""
    deadline = clock() + timeout
    progress = readiness.assess(service, environment, revision, regions, [])
    last_error: TaxiwayError | None = None
    while True:
        try:
            rows: Any = cp.get("/v1/status", service=service)
        except TransientError as exc:
            # The control plane restarting mid-wait is no reason to give up before the deadline.
            last_error = exc
        else:
            last_error = None
            progress = readiness.assess(
                service, environment, revision, regions, rows if isinstance(rows, list) else []
            )
            on_progress(progress)
            if progress.failed:
                raise RolloutFailed(progress)
            if progress.done:
                return progress
        remaining = deadline - clock()
        if remaining <= 0:
            raise RolloutTimedOut(progress, timeout, last_error)
        sleep(min(interval, remaining))
