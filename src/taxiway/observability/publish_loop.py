"""A thread that keeps a Prometheus's files in step with what its owner last offered.

The owner (a satellite's reconciler after each tick, the control plane on a period)
computes what its Prometheus should scrape and evaluate — cheap, pure — and
:meth:`PublishLoop.offer` s it; this loop writes it out and asks for a reload
(:class:`taxiway.observability.prometheus_files.PrometheusFiles`) on its own thread, so a
Prometheus that is slow to answer never holds up the owner's work. Only the newest offer
counts; equal offers are written once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from taxiway.observability.prometheus_files import PrometheusFiles
from taxiway.plan.observability import scrape_targets

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
"""How soon a reload the Prometheus did not answer is asked for again."""


@dataclass(frozen=True)
class Offer:
    targets: Mapping[str, Sequence[scrape_targets.Group]]
    rules: Mapping[str, str] = field(default_factory=dict)


class PublishLoop:
    def __init__(self, files: PrometheusFiles) -> None:
        self.files = files
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._offer: Offer | None = None
        self._written: Offer | None = None
        self.publishes = 0
        """Offers written out (observability, and tests wait on it)."""

    def offer(self, offer: Offer) -> None:
        with self._lock:
            if offer == self._offer:
                return
            self._offer = offer
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set (then :meth:`wake` it)."""
        while not stop.is_set():
            self._wake.wait(RETRY_SECONDS)
            self._wake.clear()
            with self._lock:
                offer = self._offer
            if offer is None:
                continue
            try:
                if offer != self._written:
                    self.files.publish(offer.targets, offer.rules)
                    self._written = offer
                    self.publishes += 1
                else:
                    self.files.publish(offer.targets, offer.rules)  # retries a reload still owed
            except OSError as exc:
                log.warning("could not write the Prometheus files in %s: %s", self.files.directory, exc)
