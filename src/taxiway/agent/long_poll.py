"""The loop that long-polls the control plane until stopped, backing off while it fails.

Shared by the satellite's and the edge's pullers (:mod:`taxiway.satellite.puller`,
:mod:`taxiway.edge.puller`); each supplies one poll and how long it may wait. While the
control plane is down, unreachable, refusing the token or failing, the loop retries with
exponential backoff (the caller's policy, capped so a restarted control plane is seen
within seconds) and does nothing else: the agent keeps running what it last stored. The
first poll after a failure does not wait, so a control plane that came back is read at
once. A problem is logged once per distinct message; a bug in a poll is logged with its
traceback and retried like a failure, so it never ends the pulling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from taxiway.client import http
from taxiway.errors import TaxiwayError
from taxiway.plan.region import supervision

POLL_SLACK_SECONDS = 15.0
"""A long poll may take ``wait`` seconds by design; past this much more, the call is dead."""


class LongPoll:
    def __init__(
        self,
        retry: supervision.BackoffPolicy,
        *,
        what: str,
        meanwhile: str,
        log: logging.Logger,
    ) -> None:
        """``what`` is pulled (``"definitions"``); ``meanwhile``, what the agent does while it
        cannot be; ``log`` is the agent's own logger, so each line says whose poll failed."""
        self._retry = retry
        self._what = what
        self._meanwhile = meanwhile
        self._log = log
        self.reachable = False
        """The control plane answered the last poll."""

    def run(
        self,
        stop: threading.Event,
        poll: Callable[[float], object],
        wait: Callable[[], float],
        after: Callable[[], None] | None = None,
    ) -> None:
        """Call ``poll(seconds)`` until ``stop`` is set; ``wait()`` says how long a poll
        after a success may wait, and ``after()`` runs after each successful poll."""
        failures = 0
        last_problem = ""
        while not stop.is_set():
            try:
                poll(0.0 if failures else wait())
            except TaxiwayError as exc:
                if stop.is_set():
                    return
                failures += 1
                self.reachable = not isinstance(exc, http.Unreachable)
                if str(exc) != last_problem:
                    self._log.warning(
                        "cannot pull %s: %s; %s, retrying every %.1fs at most",
                        self._what,
                        exc,
                        self._meanwhile,
                        self._retry.max_seconds,
                    )
                    last_problem = str(exc)
                stop.wait(supervision.next_restart(0.0, failures, self._retry))
                continue
            except Exception:  # a bug here must not end the pulling; what is stored is intact
                if stop.is_set():
                    return
                failures += 1
                self._log.exception("pulling %s failed", self._what)
                stop.wait(supervision.next_restart(0.0, failures, self._retry))
                continue
            if failures:
                self._log.info("the control plane answers again (after %d failed polls)", failures)
            failures, last_problem = 0, ""
            self.reachable = True
            if stop.is_set():
                return
            if after is not None:
                after()
