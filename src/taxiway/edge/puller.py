"""The puller: long-polls the PoP's config and saves every change to the cache before handing it on.

Runs in a thread of its own. ``GET /v1/pops/{pop}/config?after=VERSION&wait=SECONDS``
answers at once when the config's version differs from ``after`` (the one this PoP holds),
else when it changes or the wait ends. Each answer is checked
(:func:`taxiway.plan.edge.popconfig.parse`), merged with what the PoP routes
(:func:`taxiway.plan.edge.popconfig.merge`), written to the cache, and only then given to the
controller (``on_config``), so nothing is acted on that a restart could forget.

When the control plane is down, unreachable, refusing the token or failing, the puller
retries with exponential backoff capped at ``retry_max_seconds`` and does nothing else:
HAProxy keeps routing the last known config. The first poll after a failure does not
wait, so a control plane that came back is read at once. The loop is the satellite's
too: :class:`taxiway.agent.long_poll.LongPoll`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.parse import quote

from taxiway.agent import long_poll
from taxiway.client import http
from taxiway.edge import cache
from taxiway.edge.settings import EdgeSettings
from taxiway.plan.edge import popconfig
from taxiway.plan.region import supervision

log = logging.getLogger(__name__)


class Puller:
    def __init__(
        self,
        settings: EdgeSettings,
        control_plane: http.ControlPlane,
        store: cache.ConfigCache,
        current: Callable[[], popconfig.PopConfig | None],
        on_config: Callable[[popconfig.PopConfig], None],
    ) -> None:
        self._settings = settings
        self._cp = control_plane
        self._cache = store
        self._current = current
        self._on_config = on_config
        retry = supervision.BackoffPolicy(
            initial_seconds=settings.retry_initial_seconds, factor=2.0, max_seconds=settings.retry_max_seconds
        )
        self._loop = long_poll.LongPoll(
            retry, what="the PoP's config", meanwhile="routing the last known config", log=log
        )
        self._stop = threading.Event()
        self._last_notes: tuple[str, ...] = ()
        self.answers = 0
        """Polls answered (observability, and tests wait on it)."""

    @property
    def reachable(self) -> bool:
        """The control plane answered the last poll."""
        return self._loop.reachable

    def pull_once(self, wait: float) -> bool:
        """Poll once (waiting up to ``wait`` s for a change); True when the config changed."""
        pop = self._settings.pop
        held = self._current()
        # Without a config to compare with, the control plane answers at once anyway.
        params = {} if held is None else {"after": held.version, "wait": wait}
        response = self._cp.request(
            "GET",
            f"/v1/pops/{quote(pop, safe='')}/config",
            params=params,
            timeout=wait + long_poll.POLL_SLACK_SECONDS,
        )
        if self._stop.is_set():  # the edge stopped during the long poll: store nothing
            return False
        answer = http.json_of(response, f"the config of PoP {pop}")
        parsed = popconfig.parse(answer, pop)
        self.answers += 1
        if held is not None and parsed.config.version == held.version:
            return False
        for problem in parsed.problems:
            log.warning("config version %d: %s", parsed.config.version, problem)
        merged = popconfig.merge(held, parsed.config)
        if merged.notes != self._last_notes:
            for note in merged.notes:
                log.warning("%s", note)
            self._last_notes = merged.notes
        self._cache.save(merged.config)
        names = ", ".join(s.service for s in merged.config.services) or "none"
        log.info("stored config version %d (services: %s)", merged.config.version, names)
        self._on_config(merged.config)
        return True

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        self._loop.run(stop, self.pull_once, self._poll_wait)

    def _poll_wait(self) -> float:
        # Without a config the control plane answers at once anyway; ask again at once too.
        return 0.0 if self._current() is None else self._settings.poll_wait_seconds
