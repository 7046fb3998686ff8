"""One PoP's edge: its parts wired together, started and stopped as a whole.

``taxiway edge`` builds an :class:`Edge` from its settings and calls :meth:`Edge.start`;
tests do the same in-thread. :meth:`Edge.start` loads the cached config, picks (or finds
again) the listening ports, and runs one controller step before it returns, so HAProxy
serves the cached config — started anew, or the one left running by the previous edge
process, adopted without a restart — before the control plane was even asked. Then three
threads, each independent of the others' progress:

- **puller** — long-polls the PoP's config, caches it first, hands it to the controller
  (:mod:`taxiway.edge.puller`);
- **controller** — measures, steers, renders and applies; the only one that touches
  HAProxy (:mod:`taxiway.edge.controller`);
- **reporter** — PUTs the latest status on a period and on change
  (:mod:`taxiway.edge.status_sender`).

Beside them, the edge's own metrics listener (``--edge-metrics-listen``,
:mod:`taxiway.observability.metrics_listener`) serves
:mod:`taxiway.observability.edge_metrics` at ``/metrics``; its URL goes out in the PoP's
status (``edge_metrics``), so the control plane can tell the global Prometheus where it is.

:meth:`Edge.stop` stops the threads only: HAProxy keeps serving, by design, as a
satellite's instances do, until an edge started later adopts it.
"""

from __future__ import annotations

import logging
from typing import Any

from taxiway.agent import latest, state_lock, thread_group
from taxiway.client import http
from taxiway.edge import cache, controller, listeners, puller, status_sender
from taxiway.edge.settings import EdgeSettings
from taxiway.errors import ConfigurationError
from taxiway.haproxy import layout, process
from taxiway.observability import edge_metrics, metrics_listener
from taxiway.plan.edge import status_report
from taxiway.system import environment

log = logging.getLogger(__name__)


class Edge:
    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        env = environment.passthrough()  # all HAProxy sees of ours: never the token
        self.haproxy = process.Haproxy(
            layout.Layout(settings.haproxy_dir), binary=settings.haproxy_binary, env=env
        )
        self._threads = thread_group.ThreadGroup()
        self._snapshot: latest.Latest[status_report.Snapshot] = latest.Latest()
        self._lock = state_lock.StateLock(settings.lock_file, settings.AGENT)
        self._started = False
        self.metrics = edge_metrics.EdgeMetrics(self._latest_body)
        self.metrics_listener: metrics_listener.MetricsListener | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Serve the cached config (or none yet), then start pulling, steering and reporting."""
        settings = self.settings
        self._lock.take(settings.state_dir, mode=0o700)
        try:
            self.haproxy.executable()  # a missing binary is a clear error now, not a log line later
            adopted = self.haproxy.master_pid()
            self.addresses = listeners.resolve(
                settings.listeners_file,
                settings.pop,
                (settings.listen_host, settings.listen_port),
                (settings.metrics_host, settings.metrics_port),
                in_use=adopted is not None,
                edge_metrics=(settings.edge_metrics_host, settings.edge_metrics_port),
            )
            self.cache = cache.ConfigCache(settings.cache_file, settings.pop)
            cached = self.cache.load()
            self.metrics_listener = metrics_listener.MetricsListener(
                self.addresses.edge_metrics.host,
                self.addresses.edge_metrics.port,
                self.metrics.registry,
                "--edge-metrics-listen",
            )
            self.controller = controller.Controller(
                settings, self.haproxy, self.addresses, cached, metrics=self.metrics
            )
            self._publish(self.controller.step())
            if not self.haproxy.running():
                reason = self.controller.problem or "no reason given"
                raise ConfigurationError(f"HAProxy did not start for PoP {settings.pop}: {reason}")
            self.control_plane = http.ControlPlane(settings.control_plane, settings.token)
            self.puller = puller.Puller(
                settings,
                self.control_plane,
                self.cache,
                lambda: self.controller.config,
                self.controller.set_config,
            )
            self.reporter = status_sender.Reporter(settings, self.control_plane, self.snapshot)
        except BaseException:
            if self.metrics_listener is not None:
                self.metrics_listener.close()
                self.metrics_listener = None
            self._lock.release()
            raise
        self._threads.spawn("edge-controller", self.controller.run, self._publish)
        self._threads.spawn("edge-puller", self.puller.run, long_poll=True)
        self._threads.spawn("edge-reporter", self.reporter.run)
        self._started = True
        log.info(
            "edge %s up: %s (metrics %s, the edge's own %s), HAProxy pid %s%s, %s, control plane %s, "
            "state in %s",
            settings.pop,
            self.url,
            self.metrics_url,
            self.edge_metrics_url,
            self.haproxy.master_pid(),
            " (adopted)" if adopted is not None else "",
            f"cached config version {cached.version}" if cached is not None else "no cached config",
            settings.control_plane,
            settings.state_dir,
        )

    def stop(self) -> None:
        """Stop the edge's threads; HAProxy keeps serving."""
        if not self._started:
            return
        self._started = False
        self._threads.stop(self.controller.wake, self.reporter.wake)
        self.control_plane.close()
        if self.metrics_listener is not None:
            self.metrics_listener.close()
            self.metrics_listener = None
        self.haproxy.detach()
        self._lock.release()
        log.info(
            "edge %s stopped; HAProxy (pid %s) keeps serving", self.settings.pop, self.haproxy.master_pid()
        )

    # -- what the threads share --------------------------------------------------------------

    def _publish(self, snapshot: status_report.Snapshot) -> None:
        # The first step runs inside start(), before there is a reporter to wake.
        if self._snapshot.publish(snapshot) and self._started:
            self.reporter.wake()

    def snapshot(self) -> status_report.Snapshot | None:
        return self._snapshot.get()

    def _latest_body(self) -> dict[str, Any] | None:
        snapshot = self._snapshot.get()
        return snapshot.body if snapshot is not None else None

    @property
    def url(self) -> str:
        return listeners.Listeners.url(self.addresses.listen)

    @property
    def metrics_url(self) -> str:
        return listeners.Listeners.url(self.addresses.metrics) + "/metrics"

    @property
    def edge_metrics_url(self) -> str:
        """The edge process's own metrics (not HAProxy's: :attr:`metrics_url`)."""
        return listeners.Listeners.url(self.addresses.edge_metrics) + "/metrics"
