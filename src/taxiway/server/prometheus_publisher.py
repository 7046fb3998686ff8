"""The control plane keeps the global Prometheus's targets and rules (``--prometheus-dir``).

Every :data:`EVERY_SECONDS` it reads from its store what the global Prometheus should
watch — each PoP's HAProxy exporter and edge process, as the PoPs report them, and the
global SLO rules of every service and environment that runs somewhere — and offers it to
a :class:`~taxiway.observability.publish_loop.PublishLoop`, which writes what changed and
has the Prometheus reload. While the control plane is down the global Prometheus keeps
what it last loaded; the regional ones never depend on this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from taxiway.observability import prometheus_files, publish_loop
from taxiway.plan.observability import scrape_targets, service_rules
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.store import protocol, records

log = logging.getLogger(__name__)

EVERY_SECONDS = 2.0


def _address(value: Any) -> str | None:
    """``host:port`` from a reported ``{"host": ..., "port": ...}`` or ``"host:port"``."""
    if isinstance(value, str) and value:
        return value.split("://", 1)[-1].split("/", 1)[0]
    if isinstance(value, dict) and isinstance(value.get("host"), str) and isinstance(value.get("port"), int):
        return f"{value['host']}:{value['port']}"
    return None


def pop_targets(statuses: Iterable[records.PopStatus]) -> list[scrape_targets.PopTarget]:
    targets = []
    for status in statuses:
        haproxy = status.report.get("haproxy")
        haproxy_metrics = _address(haproxy.get("metrics")) if isinstance(haproxy, dict) else None
        targets.append(
            scrape_targets.PopTarget(status.pop, haproxy_metrics, _address(status.report.get("edge_metrics")))
        )
    return targets


def running_services(store: protocol.Store) -> list[service_rules.Watched]:
    """Each service and environment that runs in some region, as its first region's
    definition says (a region's override may change its SLOs there; its own Prometheus has
    those)."""
    seen: dict[tuple[str, str], service_rules.Watched] = {}
    for environment in ENVIRONMENTS:
        for published in store.published(environment):
            key = (published.service, published.environment)
            if published.definition is None or key in seen:
                continue
            try:
                seen[key] = service_rules.Watched.stored(*key, published.definition)
            except ValidationError:
                log.warning("the stored SLOs of %s/%s do not parse; no rules for them", *key)
    return list(seen.values())


class GlobalPublisher:
    def __init__(self, store: protocol.Store, files: prometheus_files.PrometheusFiles) -> None:
        self._store = store
        self._stop = threading.Event()
        self.loop = publish_loop.PublishLoop(files)
        self._threads: list[threading.Thread] = []

    def offer_once(self) -> None:
        targets = scrape_targets.global_(pop_targets(self._store.pop_statuses()))
        rules = service_rules.global_(running_services(self._store))
        self.loop.offer(publish_loop.Offer(targets=targets, rules=rules))

    def _offer_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.offer_once()
            except Exception:  # a bad row must not end the loop; the next round tries again
                log.exception("could not compute the global Prometheus's files")
            self._stop.wait(EVERY_SECONDS)

    def start(self) -> None:
        for name, target, args in (
            ("prometheus-offers", self._offer_forever, ()),
            ("prometheus-files", self.loop.run, (self._stop,)),
        ):
            thread = threading.Thread(target=target, args=args, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.loop.wake()
        for thread in self._threads:
            thread.join(timeout=10)
