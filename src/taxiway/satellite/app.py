"""One region's satellite: its parts wired together, started and stopped as a whole.

``taxiway satellite`` builds a :class:`Satellite` from its settings and calls
:meth:`Satellite.start`; tests do the same in-thread with a fake driver. Four threads,
each independent of the others' progress:

- **puller** — long-polls the definitions feed, writes each answer to the local store
  first, then wakes the reconciler (:mod:`taxiway.satellite.puller`);
- **reconciler** — every tick: plan, act through the supervisor, build status
  (:mod:`taxiway.satellite.reconcile_loop`); it never waits on the control plane;
- **reporter** — PUTs the latest status on a period and on change
  (:mod:`taxiway.satellite.status_sender`);
- **api** — ``/healthz``, ``/metrics`` and logs (:mod:`taxiway.satellite.api`; the
  metrics are :mod:`taxiway.observability.satellite_metrics`).

Beside them runs the region ingress, an HAProxy of its own (:mod:`taxiway.satellite.ingress`),
which the reconciler keeps equal to the region's ready instances
(:mod:`taxiway.satellite.rotation`).

On start, the ``local`` driver first re-adopts the instances still running from before
(a crash or ``kill -9`` of the previous satellite), and the reconciler asks for the same
ids with the same specs, so nothing restarts; likewise the ingress HAProxy that still
runs is adopted, not restarted. :meth:`Satellite.stop` stops the threads only: instances
and the ingress keep running, by design, until an explicit change removes them.
"""

from __future__ import annotations

import logging
from typing import Any

from taxiway.agent import latest, state_lock, thread_group
from taxiway.client import http
from taxiway.errors import ConfigurationError
from taxiway.observability import prometheus_files, publish_loop, satellite_metrics
from taxiway.plan.observability import service_rules
from taxiway.satellite import (
    access,
    api,
    artifacts,
    ingress,
    localstore,
    metered_dataplane,
    prometheus_offer,
    puller,
    reconcile_loop,
    rotation,
    runtimes,
    status_sender,
)
from taxiway.satellite.settings import SatelliteSettings
from taxiway.sealing.keys import Sealer
from taxiway.spec import topology

log = logging.getLogger(__name__)


class Satellite:
    def __init__(
        self,
        settings: SatelliteSettings,
        region: topology.Region,
        runtime: runtimes.Runtime,
    ) -> None:
        if region.name != settings.region:
            raise ConfigurationError(
                f"settings are for region {settings.region}, the topology for {region.name}"
            )
        self.settings = settings
        self.region = region
        self.runtime = runtime
        self._threads = thread_group.ThreadGroup()
        self._snapshot: latest.Latest[reconcile_loop.Snapshot] = latest.Latest()
        self._lock = state_lock.StateLock(settings.lock_file, settings.AGENT)
        self._started = False
        self.ingress: ingress.Ingress | None = None
        self.prometheus: publish_loop.PublishLoop | None = None
        self.dataplane: metered_dataplane.Metered | None = None
        """The ingress as the gate drives it, counted for ``/metrics``."""
        self._feed: satellite_metrics.FeedLag | None = None
        self.metrics = satellite_metrics.SatelliteMetrics(self.instances, self._backends, lambda: self._feed)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the store, re-adopt instances, bind the API and start every thread."""
        settings = self.settings
        self._lock.take(settings.state_dir, mode=0o700)
        settings.state_dir.chmod(0o700)  # readable by no other user (an older satellite made it 0755)
        try:
            sealer = Sealer.from_file(settings.key_file, create=True)
            self.store = localstore.LocalStore(settings.database, sealer)
            if self.runtime.isolation is not None:
                self.runtime.isolation.prepare()
                log.info("instances run as their services' own users; tenant directory %s", settings.tenants)
            self.cache = artifacts.ArtifactCache(settings.artifacts_dir, isolation=self.runtime.isolation)
            if self.runtime.local is not None:
                recovered = self.runtime.local.recover()
                log.info(
                    "re-adopted %d running instances%s",
                    len(recovered.adopted),
                    f", cleaned up {len(recovered.cleaned)} dead ones" if recovered.cleaned else "",
                )
            gate = None
            if settings.ingress:
                self.ingress = ingress.Ingress(settings)
                self.ingress.open()
                self.dataplane = metered_dataplane.Metered(self.ingress, self.metrics)
                gate = rotation.Gate(
                    self.dataplane,
                    host=settings.instance_host,
                    grace=settings.drain_grace_seconds,
                    check_interval=settings.ingress_check_interval,
                    request_metrics=self.ingress.request_metrics,
                )
            self.control_plane = http.ControlPlane(settings.control_plane, settings.token)
            self.access = access.AccessCheck(settings.control_plane, ttl=settings.access_cache_seconds)
            self.reconciler = reconcile_loop.Reconciler(
                settings,
                self.region,
                self.runtime.driver,
                self.store,
                self.cache,
                gate=gate,
                metrics=self.metrics,
            )
            self.puller = puller.Puller(
                settings, self.control_plane, self.store, self.cache, self.reconciler.request_reload
            )
            self._feed = self.puller
            backend = api.Backend(
                region=settings.region,
                health=self.health,
                instances=self.instances,
                runtime=self.runtime,
                access=self.access,
                stop=self._threads.stopping,
                metrics=self.metrics.exposition,
            )
            self.api = api.Api(settings.listen_host, settings.listen_port, backend, settings.api_limits)
            self.reporter = status_sender.Reporter(
                settings,
                self.control_plane,
                self.snapshot,
                lambda: self.store.cursor,
                self.api.url,
                self.ingress.url if self.ingress is not None else None,
            )
            if settings.prometheus_dir is not None:
                files = prometheus_files.PrometheusFiles(settings.prometheus_dir, settings.prometheus_url)
                self.prometheus = publish_loop.PublishLoop(files)
        except BaseException:
            self._lock.release()
            raise
        self.api.start()
        self._threads.spawn("satellite-reconciler", self.reconciler.run, self._publish)
        self._threads.spawn("satellite-puller", self.puller.run, long_poll=True)
        self._threads.spawn("satellite-reporter", self.reporter.run)
        if self.prometheus is not None:
            self._threads.spawn("satellite-prometheus", self.prometheus.run)
        self._started = True
        log.info(
            "satellite for %s up: api %s, ingress %s, control plane %s, cursor %d, state in %s",
            settings.region,
            self.api.url,
            self.ingress.url if self.ingress is not None else "off",
            settings.control_plane,
            self.store.cursor,
            settings.state_dir,
        )

    def stop(self) -> None:
        """Stop the satellite's threads; every instance keeps running."""
        if not self._started:
            return
        self._started = False
        wake = [self.reconciler.wake, self.reporter.wake, self.api.close]
        if self.prometheus is not None:
            wake.append(self.prometheus.wake)
        self._threads.stop(*wake)
        self.control_plane.close()
        self.access.close()
        if self.ingress is not None:
            self.ingress.close()
        self.store.close()
        self._lock.release()
        log.info(
            "satellite for %s stopped; its instances keep running%s",
            self.settings.region,
            ", and so does its ingress" if self.ingress is not None else "",
        )

    # -- what the threads share --------------------------------------------------------------

    def _publish(self, snapshot: reconcile_loop.Snapshot) -> None:
        if self._snapshot.publish(snapshot):
            self.reporter.wake()
        if self.prometheus is not None:
            self.prometheus.offer(self._prometheus_offer(snapshot))

    def _prometheus_offer(self, snapshot: reconcile_loop.Snapshot) -> publish_loop.Offer:
        """On the reconciler's thread, which alone changes the definitions it reads."""
        return prometheus_offer.offer(
            self.settings.region,
            instance_host=self.settings.instance_host,
            satellite_api=self.api.url,
            ingress_metrics=self.ingress.metrics_url if self.ingress is not None else None,
            request_log_metrics=self.ingress.request_metrics_url if self.ingress is not None else None,
            instances=snapshot.instances,
            definitions=self.reconciler.definitions(),
            rule_files=service_rules.regional,
        )

    def _backends(self) -> rotation.Backends | None:
        return self.dataplane.last_servers if self.dataplane is not None else None

    def snapshot(self) -> reconcile_loop.Snapshot | None:
        return self._snapshot.get()

    def instances(self) -> tuple[Any, ...]:
        snapshot = self.snapshot()
        return snapshot.instances if snapshot is not None else ()

    @property
    def api_url(self) -> str:
        return self.api.url

    def health(self) -> dict[str, Any]:
        body = {
            "status": "ok",
            "region": self.settings.region,
            "cursor": self.store.cursor,
            "instances": len(self.instances()),
            "control_plane_reachable": self.puller.reachable,
        }
        if self.ingress is not None:
            body.update(self.ingress.health())
        else:
            body.update(
                ingress=None,
                ingress_running=False,
                ingress_pid=None,
                ingress_metrics=None,
                ingress_request_metrics=None,
                ingress_request_metrics_pid=None,
            )
        return body
