"""The region ingress as the rotation gate drives it, with what it does counted for ``/metrics``.

:class:`Metered` wraps the satellite's :class:`~taxiway.satellite.rotation.Dataplane`
(HAProxy in :mod:`taxiway.satellite.ingress`) and passes every call through unchanged,
noting on the way (into :class:`~taxiway.observability.satellite_metrics.SatelliteMetrics`):

- each start or reload (``install``), and whether HAProxy took it;
- each drain's duration, from the ``drain`` it applied to the ``del server`` that ended it
  (a drain begun before this satellite started has no known start and is not measured;
  a server readmitted while draining ends its drain unmeasured);
- the servers it last read (``servers``), which the scrape counts per revision; an
  ingress found not running has none.

Owned by the reconciler's thread like the gate; a scrape reads :attr:`Metered.last_servers`
from another thread, which is one attribute read of a mapping never changed after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from taxiway.errors import TaxiwayError
from taxiway.haproxy import membership
from taxiway.observability import satellite_metrics
from taxiway.plan.haproxy import config
from taxiway.plan.region import rotation as rotation_plan
from taxiway.satellite import rotation


class Metered:
    def __init__(
        self,
        dataplane: rotation.Dataplane,
        metrics: satellite_metrics.SatelliteMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dataplane = dataplane
        self._metrics = metrics
        self._clock = clock
        self._drains: dict[tuple[str, str], float] = {}
        """(backend, server) -> when this satellite drained it."""
        self.last_servers: rotation_plan.Backends | None = None
        """What :meth:`servers` last answered (``None``: not read yet)."""

    def running(self) -> bool:
        running = self._dataplane.running()
        if not running:
            self.last_servers = {}
        return running

    def servers(self) -> rotation.Backends:
        backends = self._dataplane.servers()
        self.last_servers = backends
        return backends

    def apply(self, backend: str, check: config.InstanceCheck, actions: Sequence[membership.Action]) -> None:
        self._dataplane.apply(backend, check, actions)
        now = self._clock()
        for action in actions:
            if isinstance(action, membership.Drain):
                self._drains[(backend, action.server)] = now
            elif isinstance(action, membership.Readmit):
                self._drains.pop((backend, action.server), None)
            elif isinstance(action, membership.Remove):
                began = self._drains.pop((backend, action.server), None)
                if began is not None:
                    self._metrics.drain_duration.labels(backend, rotation.ENVIRONMENT).observe(now - began)

    def reloading(self) -> bool:
        return self._dataplane.reloading()

    def shape(self) -> rotation.Shape | None:
        return self._dataplane.shape()

    def install(self, services: Sequence[config.IngressService]) -> None:
        try:
            self._dataplane.install(services)
        except TaxiwayError:
            self._metrics.ingress_reloads.labels("failed").inc()
            raise
        self._metrics.ingress_reloads.labels("ok").inc()
