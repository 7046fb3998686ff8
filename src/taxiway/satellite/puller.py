"""The puller: long-polls the region's definitions feed and writes every answer to the local store.

Runs in a thread of its own. Each answer is checked (:mod:`taxiway.wire.feed`),
written in one transaction (:mod:`taxiway.satellite.localstore`), and only then handed to
the reconciler (``on_change``), so nothing is acted on that a restart could forget. The
artifacts the stored definitions need are fetched after each answer.

When the control plane is down, unreachable or failing, the puller retries with
exponential backoff capped at ``retry_max_seconds`` (so a restarted control plane is seen
within seconds) and does nothing else: the reconciler keeps running the last desired
state (the loop is the edge's too: :class:`taxiway.agent.long_poll.LongPoll`). The first
poll after a failure does not wait, so a control plane whose cursor went backwards
(restored from a backup, or reset) is noticed at once; the satellite then keeps
everything running and reads the whole feed again (see :meth:`LocalStore.begin_resync`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import quote

from taxiway.agent import long_poll
from taxiway.client import http
from taxiway.errors import TaxiwayError
from taxiway.plan.region import supervision
from taxiway.satellite import artifacts, localstore
from taxiway.satellite.settings import SatelliteSettings
from taxiway.wire import feed

log = logging.getLogger(__name__)

ARTIFACT_TIMEOUT_SECONDS = 120.0

OnChange = Callable[[Iterable[feed.Key] | None], None]


def _sooner(current: float | None, candidate: float) -> float:
    return candidate if current is None else min(current, candidate)


class Puller:
    def __init__(
        self,
        settings: SatelliteSettings,
        control_plane: http.ControlPlane,
        store: localstore.LocalStore,
        cache: artifacts.ArtifactCache,
        on_change: OnChange,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._cp = control_plane
        self._store = store
        self._cache = cache
        self._on_change = on_change
        self._clock = clock
        self._retry = supervision.BackoffPolicy(
            initial_seconds=settings.retry_initial_seconds, factor=2.0, max_seconds=settings.retry_max_seconds
        )
        self._artifact_failures: dict[str, tuple[int, float]] = {}
        """digest -> (failures in a row, when to try again)."""
        self._loop = long_poll.LongPoll(
            self._retry, what="definitions", meanwhile="running the last known desired state", log=log
        )
        self._artifact_retry: float | None = None
        """Seconds until an artifact download is due again, as of the last poll."""
        self._resync = False
        self._stop = threading.Event()
        self._wall = wall
        self._current = False
        """The last poll succeeded: the satellite holds what the control plane published."""
        self._answered_at = clock()
        """Monotonic time of the last answer (the puller's start, before the first)."""
        self.last_pull: float | None = None
        """Epoch seconds of the last successful poll (``None`` before the first)."""

    @property
    def reachable(self) -> bool:
        """The control plane answered the last poll."""
        return self._loop.reachable

    def lag_seconds(self) -> float:
        """The feed lag ``/metrics`` shows: 0 while the last poll succeeded (a long poll
        answers as soon as anything is published, so one that waits is current); after a
        failed poll, the seconds since the last answer."""
        return 0.0 if self._current else max(self._clock() - self._answered_at, 0.0)

    # -- one poll --------------------------------------------------------------------

    def _poll(self, wait: float) -> localstore.Applied:
        """:meth:`pull_once`, with how current the feed is noted for :meth:`lag_seconds`."""
        try:
            applied = self.pull_once(wait)
        except BaseException:
            self._current = False
            raise
        self._current = True
        self._answered_at = self._clock()
        self.last_pull = self._wall()
        return applied

    def pull_once(self, wait: float) -> localstore.Applied:
        """Poll once (waiting up to ``wait`` s for a change) and store the answer."""
        region = self._settings.region
        response = self._cp.request(
            "GET",
            f"/v1/regions/{quote(region, safe='')}/definitions",
            params={"after": self._store.cursor, "wait": wait},
            timeout=wait + long_poll.POLL_SLACK_SECONDS,
        )
        if self._stop.is_set():  # the satellite stopped during the long poll: store nothing
            return localstore.Applied(cursor=self._store.cursor)
        answer = http.json_of(response, "definitions feed")
        batch = feed.parse(answer, region)
        if batch.cursor < self._store.cursor:
            log.warning(
                "the control plane's cursor went back from %d to %d (restored or reset?): "
                "keeping every instance running and reading all definitions again",
                self._store.cursor,
                batch.cursor,
            )
            self._store.begin_resync(batch.cursor)
            self._resync = True
            # Its items were numbered by the old control plane's history: only the failed
            # nodes (always the complete set) are worth keeping from this answer.
            applied = self._store.apply(feed.Batch(cursor=0, items=(), failed_nodes=batch.failed_nodes))
            self._on_change(())
            return applied
        applied = self._store.apply(batch)
        self._resync = False
        for service, environment in applied.ignored:
            log.warning(
                "%s/%s: ignoring a removal older than the control plane's reset; it keeps running "
                "until a newer change",
                service,
                environment,
            )
        if applied.changed:
            names = ", ".join(f"{s}/{e}" for s, e in applied.changed)
            log.info("stored %d changes (cursor %d): %s", len(applied.changed), applied.cursor, names)
        if applied.failed_nodes_changed:
            nodes = ", ".join(f"{d}/{n}" for d, n in sorted(self._store.failed_nodes)) or "none"
            log.warning("failed nodes are now: %s", nodes)
        self._on_change(applied.changed)
        return applied

    # -- artifacts ---------------------------------------------------------------------

    def _download(self, digest: str) -> bytes:
        response = self._cp.request("GET", f"/v1/artifacts/{digest}", timeout=ARTIFACT_TIMEOUT_SECONDS)
        return response.content

    def fetch_artifacts(self) -> float | None:
        """Fetch what the stored definitions need; answers the seconds until a retry is
        due, or ``None`` when nothing is missing."""
        now = self._clock()
        next_retry: float | None = None
        fetched = False
        for digest in sorted(self._store.artifacts()):
            if self._cache.present(digest):
                self._artifact_failures.pop(digest, None)
                continue
            failures, retry_at = self._artifact_failures.get(digest, (0, now))
            if retry_at > now:
                next_retry = _sooner(next_retry, retry_at - now)
                continue
            try:
                directory = self._cache.fetch(digest, self._download)
            except TaxiwayError as exc:
                failures += 1
                delay = supervision.next_restart(0.0, failures, self._retry_for(exc))
                self._artifact_failures[digest] = (failures, now + delay)
                next_retry = _sooner(next_retry, delay)
                log.warning(
                    "artifact %s: %s (attempt %d; trying again in %.1fs)", digest, exc, failures, delay
                )
                if isinstance(exc, artifacts.ArtifactRejected):
                    fetched = True  # the reconciler reports the rejection
                continue
            self._artifact_failures.pop(digest, None)
            log.info("artifact %s ready in %s", digest, directory)
            fetched = True
        if fetched:
            self._on_change(())
        return next_retry

    def _retry_for(self, exc: TaxiwayError) -> supervision.BackoffPolicy:
        if exc.retryable:
            return self._retry
        # Bad bytes or a refusal will not fix themselves in seconds: try again rarely.
        return supervision.BackoffPolicy(initial_seconds=30.0, max_seconds=300.0)

    # -- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        self._loop.run(stop, self._poll, self._poll_wait, self._fetch_after_poll)

    def _poll_wait(self) -> float:
        if self._resync:
            return 0.0
        if self._artifact_retry is not None:
            return min(self._settings.poll_wait_seconds, self._artifact_retry)
        return self._settings.poll_wait_seconds

    def _fetch_after_poll(self) -> None:
        self._artifact_retry = self.fetch_artifacts()
