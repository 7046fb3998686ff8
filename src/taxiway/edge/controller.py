"""The PoP's one loop over its HAProxy: measure, steer, render, apply, describe.

Runs in a thread of its own and is the only thing that changes the PoP's HAProxy (reloads
are serialised by construction). Every tick — half the shortest monitor interval, so a
sample is never a whole interval late, and at once when the puller hands over a new
config — :meth:`Controller.step`:

1. reads ``show stat`` (one runtime API call) and groups the server rows by service;
2. folds due check durations into each service's RTT estimates and orders its pools
   (:func:`taxiway.plan.edge.steering.step`);
3. renders the HAProxy config (:mod:`taxiway.edge.translate`) and, if the text differs from
   what runs or HAProxy is not running, applies it: ``haproxy -c``, then start or hitless
   reload (:meth:`taxiway.haproxy.process.Haproxy.apply`);
4. builds the status (:mod:`taxiway.plan.edge.status_report`) and publishes it to the reporter.

A config HAProxy refuses is logged (once per distinct text) and not tried again until the
text changes; the running HAProxy keeps serving what it had. If HAProxy is found not
running (killed, or the machine rebooted), the next step starts it on the current config,
at most every :data:`RESTART_SECONDS`.

With no config at all (first start, control plane not answered yet) HAProxy is started
with no services, answering 404 "unknown service", so the PoP's port is up; but a running
HAProxy is never replaced by an empty one (the cache is written before HAProxy ever gets
a config, so "no cache but a running HAProxy" means the cache was removed by hand).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from taxiway.edge import listeners, translate
from taxiway.edge.settings import EdgeSettings
from taxiway.errors import TaxiwayError
from taxiway.haproxy import process
from taxiway.haproxy.errors import RuntimeApiError, RuntimeApiUnavailable
from taxiway.observability import edge_metrics
from taxiway.plan.edge import popconfig, rtt, status_report, steering
from taxiway.plan.haproxy import answers, config
from taxiway.system import atomic_file

log = logging.getLogger(__name__)

SETTLE_MARGIN_SECONDS = 0.05
"""After HAProxy reloads, ``show stat`` shows each pool's check result as the reload
restored it from the server-state file (``L7OK``, duration 0) until the new worker's first
check of that pool, and a duration of 0 is not a measurement. HAProxy runs every
server's first check within the shortest ``inter`` of the worker's start, and it ends
within the check timeout; until that much time (plus this margin) has passed, only rows
that prove a real check are sampled (:func:`taxiway.plan.edge.steering.measured`). A PoP that
adopts a running HAProxy waits the same: it cannot tell how recently that one reloaded."""
MIN_TICK_SECONDS = 0.05
MAX_TICK_SECONDS = 1.0
RESTART_SECONDS = 2.0
MONITORS_FILE = "monitors.map"
"""Each pool's monitor path, ``service/region path``, beside haproxy.cfg."""
"""Least time between two attempts to start or reload HAProxy after one failed."""


class Controller:
    def __init__(
        self,
        settings: EdgeSettings,
        haproxy: process.Haproxy,
        addresses: listeners.Listeners,
        initial: popconfig.PopConfig | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        metrics: edge_metrics.EdgeMetrics | None = None,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._haproxy = haproxy
        self._clock = clock
        self._frame = translate.Frame(
            pop=settings.pop,
            domain=settings.domain,
            bind=addresses.listen,
            control=haproxy.layout.control(addresses.metrics),
            timeouts=config.Timeouts(
                connect=settings.connect_timeout_seconds, server=settings.response_timeout_seconds
            ),
            pool_addresses=settings.pool_addresses,
            monitor_map=haproxy.layout.state_dir / MONITORS_FILE,
        )
        self._listen_url = addresses.url(addresses.listen)
        self._haproxy_metrics_url = (
            addresses.url(addresses.metrics) + "/metrics" if addresses.metrics.port else None
        )
        self._edge_metrics_url = (
            addresses.url(addresses.edge_metrics) + "/metrics" if addresses.edge_metrics.port else None
        )
        self._lock = threading.Lock()
        self._config = initial
        self._wake = threading.Event()
        self._steering: dict[str, steering.State] = {}
        self._restarted_at: float | None = None
        """When HAProxy last started or reloaded (or was adopted); see SETTLE_MARGIN_SECONDS."""
        self._failed_text: str | None = None
        self._failed_at = -RESTART_SECONDS
        self._last_problems: tuple[str, ...] = ()
        self.applied: popconfig.PopConfig | None = None
        """The config HAProxy serves now (after the last successful apply)."""
        self.reloads = 0
        """Starts and reloads done (observability, and tests wait on it)."""
        self.problem: str | None = None
        """Why the last start or reload failed; ``None`` once one succeeds."""

    # -- what other threads call -------------------------------------------------------

    def set_config(self, pop_config: popconfig.PopConfig) -> None:
        with self._lock:
            self._config = pop_config
        self._wake.set()

    @property
    def config(self) -> popconfig.PopConfig | None:
        with self._lock:
            return self._config

    def wake(self) -> None:
        self._wake.set()

    def orders(self) -> dict[str, tuple[str, ...]]:
        """Each service's pool order in force."""
        return {name: state.order for name, state in self._steering.items()}

    def estimates(self) -> dict[str, dict[str, rtt.Estimate]]:
        """Each service's RTT estimates by pool."""
        return {name: dict(state.estimates) for name, state in self._steering.items()}

    # -- one step ------------------------------------------------------------------------

    def _rows(self) -> dict[str, dict[str, answers.StatRow]]:
        if not self._haproxy.running():
            return {}
        try:
            rows = self._haproxy.api.show_stat()
        except (RuntimeApiUnavailable, RuntimeApiError, ValueError):
            return {}  # reloading or stopping: this tick measures nothing
        grouped: dict[str, dict[str, answers.StatRow]] = {}
        for row in rows:
            if row.kind is answers.ProxyKind.SERVER:
                grouped.setdefault(row.proxy, {})[row.name] = row
        return grouped

    def _steer(
        self, pop_config: popconfig.PopConfig | None, rows: dict[str, dict[str, answers.StatRow]], now: float
    ) -> dict[str, tuple[str, ...]]:
        settings = self._settings
        states: dict[str, steering.State] = {}
        if self._restarted_at is None and rows:
            self._restarted_at = now  # adopted: its last reload may be a moment ago
        services = pop_config.services if pop_config is not None else ()
        first_checks = min((s.monitor.interval for s in services), default=0.0)
        for service in services:
            settled = self._restarted_at is None or (
                now - self._restarted_at >= first_checks + service.monitor.timeout + SETTLE_MARGIN_SECONDS
            )
            usable, _ = translate.usable_pools(service, settings.pool_addresses)
            failover = translate.failover_order(service, list(usable))
            served = rows.get(service.service, {})
            # Server rows come in declaration order: an adopted HAProxy's order in force.
            previous = self._steering.get(service.service) or steering.initial(failover, list(served))
            states[service.service] = steering.step(
                previous,
                steering=service.steering,
                failover=failover,
                rows=served,
                interval=service.monitor.interval,
                now=now,
                alpha=settings.rtt_alpha,
                band=settings.band,
                settled=settled,
            )
        changed = {
            name: (self._steering[name].order, state.order)
            for name, state in states.items()
            if name in self._steering and self._steering[name].order != state.order
        }
        for name, (before, after) in changed.items():
            if self._metrics is not None:
                self._metrics.reordered(name)
            estimates = ", ".join(
                f"{pool} {states[name].estimates[pool].rtt_ms:.1f} ms"
                for pool in after
                if pool in states[name].estimates
            )
            log.info(
                "%s: pools reordered %s -> %s (measured: %s)", name, list(before), list(after), estimates
            )
        self._steering = states
        return {name: state.order for name, state in states.items()}

    def _apply(
        self, translation: translate.Translation, pop_config: popconfig.PopConfig | None, now: float
    ) -> None:
        edge = translation.edge
        haproxy = self._haproxy
        running = haproxy.running()
        if pop_config is None and running:
            return  # never replace a running HAProxy by an empty one (see the module docstring)
        text = config.render(edge)
        paths = config.check_map_text(config.monitor_paths(edge))
        live = haproxy.layout.config_file
        monitors = self._frame.monitor_map
        if (
            running
            and live.exists()
            and live.read_text(encoding="utf-8") == text
            and monitors is not None
            and monitors.exists()
            and monitors.read_text(encoding="utf-8") == paths
        ):
            self.applied = pop_config
            return
        if text + paths == self._failed_text and now - self._failed_at < RESTART_SECONDS:
            return
        try:
            if monitors is not None:
                # Read at the (re)load that follows; the running workers keep their copy.
                haproxy.prepare()
                atomic_file.write_text(monitors, paths)
            outcome = haproxy.apply(text)
        except TaxiwayError as exc:
            if text + paths != self._failed_text:
                log.error("HAProxy did not take the new config: %s; it serves the previous one", exc)
            self._failed_text, self._failed_at = text + paths, now
            self.problem = str(exc)
            return
        self._failed_text = self.problem = None
        self._restarted_at = self._clock()
        self.applied = pop_config
        self.reloads += 1
        if pop_config is None:
            log.info("HAProxy %s on %s with no services yet (no config so far)", outcome, self._listen_url)
        else:
            log.info("HAProxy %s on %s (config version %d)", outcome, self._listen_url, pop_config.version)

    def step(self) -> status_report.Snapshot:
        now = self._clock()
        pop_config = self.config
        rows = self._rows()
        orders = self._steer(pop_config, rows, now)
        translation = translate.build(pop_config, orders, self._frame)
        if translation.problems != self._last_problems:
            for problem in translation.problems:
                log.warning("%s", problem)
            self._last_problems = translation.problems
        self._apply(translation, pop_config, now)
        pid = self._haproxy.master_pid()
        haproxy: dict[str, Any] = {
            "pid": pid,
            "config_version": self.applied.version if self.applied is not None else None,
            "listen": self._listen_url,
            "metrics": self._haproxy_metrics_url,
        }
        estimates = {name: state.estimates for name, state in self._steering.items()}
        rendered = {s.name for s in translation.edge.services}
        return status_report.snapshot(
            pop_config,
            {name: order for name, order in orders.items() if name in rendered},
            rows if pid is not None else {},
            estimates,
            translation.fallback,
            haproxy,
            edge_metrics=self._edge_metrics_url,
        )

    def tick_seconds(self) -> float:
        pop_config = self.config
        intervals = [s.monitor.interval for s in pop_config.services] if pop_config is not None else []
        if not intervals:
            return MAX_TICK_SECONDS
        return max(MIN_TICK_SECONDS, min(MAX_TICK_SECONDS, min(intervals) / 2))

    def run(self, stop: threading.Event, publish: Callable[[status_report.Snapshot], None]) -> None:
        while not stop.is_set():
            try:
                publish(self.step())
            except Exception:  # a bug here must not end the loop; HAProxy keeps serving
                log.exception("edge step failed")
            self._wake.wait(self.tick_seconds())
            self._wake.clear()
