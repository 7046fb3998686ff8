"""The dev world's supervisor: keeps the control plane and every satellite running.

``dev up`` starts it detached (``taxiway dev supervise --dir DIR``, a session of its own,
output to ``DIR/logs/supervisor.log``); ``dev down`` stops it with SIGTERM. It:

- holds ``DIR/supervisor.pid`` under flock, so one supervisor runs per directory;
- first stops any child a crashed predecessor left running (identities from
  ``DIR/supervisor.json``: pid and /proc start time, never a reused pid);
- starts the control plane, then, once the control plane answers, creates each missing
  satellite and edge token and starts each satellite, the WAN emulator and each PoP's
  edge, every child in a session of its own with its output appended to
  ``DIR/logs/<name>.log``;
- keeps ``DIR/wan.json`` (the WAN emulator's links) in step with the ingress addresses
  the control plane knows (:mod:`taxiway.dev.wan_file`), every
  :data:`REFRESH_EVERY_SECONDS`;
- restarts a child that exits after an exponential backoff (0.5 s doubling to 10 s; the
  count is forgotten after 30 s up) — the same pure decisions
  (:func:`taxiway.plan.region.supervision.decide`) that restart a satellite's instances;
- rewrites ``DIR/supervisor.json`` whenever a child starts or exits, so ``dev status``,
  ``dev down`` and tests can find every pid;
- on SIGTERM stops every child (SIGTERM, a grace, then SIGKILL to the child's group)
  and exits. Instances are not its children: they belong
  to the satellites' runtime and outlive all of this (``dev down`` stops them).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from taxiway.client import http
from taxiway.dev import children, pidlock, private_file, processes, provisioning, wan_file
from taxiway.dev import layout as paths
from taxiway.dev.settings import WorldSettings
from taxiway.errors import TaxiwayError
from taxiway.plan.region import supervision
from taxiway.runtime import process

POLICY = supervision.BackoffPolicy(
    initial_seconds=0.5, factor=2.0, max_seconds=10.0, reset_after_seconds=30.0
)
TICK_SECONDS = 0.1
STOP_GRACE_SECONDS = 10.0
PROVISION_EVERY_SECONDS = 0.5
REFRESH_EVERY_SECONDS = 0.5
LOG_ROTATE_BYTES = 10 * 1024 * 1024


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def say(message: str) -> None:
    """One line of the supervisor's own log (its stdout is DIR/logs/supervisor.log)."""
    print(f"{_now()} {message}", flush=True)


@dataclass
class Child:
    spec: children.ChildSpec
    popen: subprocess.Popen[bytes] | None = None
    identity: process.ProcessId | None = None
    track: supervision.Track = field(default_factory=supervision.Track)
    starts: int = 0
    last_exit: int | None = None
    exit_seen: bool = False

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.returncode is None

    def record(self, clock_now: float) -> dict[str, Any]:
        if self.running:
            state = "running"
        elif self.popen is None:
            state = "pending"
        else:
            state = "waiting" if self.track.restart_at is not None else "exited"
        restart_in = (
            max(0.0, self.track.restart_at - clock_now) if self.track.restart_at is not None else None
        )
        return {
            **processes.to_record(self.identity if self.running else None),
            "argv": list(self.spec.argv),
            "region": self.spec.region,
            "state": state,
            "starts": self.starts,
            "restarts": max(0, self.starts - 1),
            "last_exit": self.last_exit,
            "restart_in_seconds": restart_in,
        }


class Supervisor:
    """Runs ``specs`` as child processes; see the module docstring.

    ``provision(spec)`` is asked to create a missing ``needs`` file of a satellite's or an
    edge's child once the first child (the control plane) runs; it raises
    :class:`taxiway.client.http.Unreachable` while that child does not answer yet.
    ``refresh()`` runs every :data:`REFRESH_EVERY_SECONDS` once the first child runs.
    """

    def __init__(
        self,
        specs: Sequence[children.ChildSpec],
        layout: paths.Layout,
        *,
        provision: Callable[[children.ChildSpec], None] | None = None,
        refresh: Callable[[], object] | None = None,
        control_plane_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        policy: supervision.BackoffPolicy = POLICY,
        stop_grace_seconds: float = STOP_GRACE_SECONDS,
    ) -> None:
        self._layout = layout
        self._stop_grace = stop_grace_seconds
        self._provision_one = provision
        self._refresh = refresh
        self._next_refresh = 0.0
        self._control_plane_url = control_plane_url
        self._clock = clock
        self._policy = policy
        self._children = [Child(spec) for spec in specs]
        self._me = process.identify(os.getpid())
        self._next_provision = 0.0

    # -- the loop ---------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.stop_leftovers()
        self.write_state()
        while not stop.is_set():
            self.tick()
            stop.wait(TICK_SECONDS)
        self.shutdown()

    def tick(self) -> None:
        changed = self._reap()
        self._provision()
        now = self._clock()
        if self._refresh is not None and now >= self._next_refresh and self._children[0].running:
            self._next_refresh = now + REFRESH_EVERY_SECONDS
            try:
                self._refresh()
            except TaxiwayError as exc:
                say(f"could not refresh: {exc}")
        for child in self._children:
            if child.spec.needs is not None and not child.spec.needs.is_file():
                continue
            seen = supervision.Observation(present=child.popen is not None, running=child.running)
            actions, child.track = supervision.decide(child.spec.name, seen, child.track, now, self._policy)
            if any(isinstance(action, supervision.Start) for action in actions):
                self._start(child)
                changed = True
        if changed:
            self.write_state()

    def _reap(self) -> bool:
        changed = False
        for child in self._children:
            if child.popen is None or child.exit_seen or child.popen.poll() is None:
                continue
            child.exit_seen = True
            child.last_exit = child.popen.returncode
            say(f"{child.spec.name} (pid {child.popen.pid}) exited with status {child.last_exit}")
            changed = True
        return changed

    def _start(self, child: Child) -> None:
        log_path = self._layout.log_file(child.spec.name)
        _rotate(log_path)
        with open(log_path, "ab") as log:
            log.write(
                f"--- {_now()} supervisor starts {child.spec.name} (start {child.starts + 1})\n".encode()
            )
            log.flush()
            try:
                child.popen = subprocess.Popen(
                    child.spec.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=provisioning.child_environment(),
                    cwd=self._layout.root,
                    start_new_session=True,
                )
            except OSError as exc:
                say(f"{child.spec.name} could not start: {exc}")
                child.popen = None
                child.track = supervision.failed(child.track, self._clock(), self._policy, str(exc))
                return
        child.identity = process.identify(child.popen.pid)
        child.exit_seen = False
        child.starts += 1
        say(f"{child.spec.name} started (pid {child.popen.pid}, start {child.starts})")

    def _provision(self) -> None:
        """Create the satellites' and edges' missing tokens once the control plane answers."""
        now = self._clock()
        missing = [c.spec for c in self._children if c.spec.needs is not None and not c.spec.needs.is_file()]
        if not missing or self._provision_one is None:
            return
        if now < self._next_provision or not self._children[0].running:
            return
        self._next_provision = now + PROVISION_EVERY_SECONDS
        for spec in missing:
            try:
                self._provision_one(spec)
            except http.Unreachable:
                return  # not up yet: try again shortly
            except TaxiwayError as exc:
                say(f"could not create the token of {spec.name}: {exc}")
                self._next_provision = now + 5.0
                return
            say(f"created the token of {spec.name}")

    # -- state and stopping -----------------------------------------------------------

    def write_state(self, *, stopped: bool = False) -> None:
        now = self._clock()
        document = {
            "version": 1,
            "supervisor": processes.to_record(None if stopped else self._me),
            "updated_at": _now(),
            "control_plane": self._control_plane_url,
            "children": {child.spec.name: child.record(now) for child in self._children},
        }
        private_file.write_json(self._layout.supervisor_file, document)

    def stop_leftovers(self) -> None:
        stop_leftovers(self._layout, self._stop_grace, say)

    def shutdown(self) -> None:
        # All at once: a satellite blocked in a long poll and a control plane waiting for
        # long polls to end each take their time, and nothing is gained by an order.
        self._stop(self._children)
        self._reap()
        self.write_state(stopped=True)

    def _stop(self, group: list[Child]) -> None:
        running = [c for c in group if c.running and c.popen is not None]
        for child in running:
            assert child.popen is not None
            say(f"stopping {child.spec.name} (pid {child.popen.pid})")
            with contextlib.suppress(ProcessLookupError):
                child.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._stop_grace
        for child in running:
            assert child.popen is not None
            try:
                child.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.spec.name} ignored SIGTERM for {self._stop_grace}s: SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.popen.pid, signal.SIGKILL)
                child.popen.wait()


def leftovers(layout: paths.Layout) -> list[process.ProcessId]:
    """Children the last supervisor of this directory recorded that are still alive."""
    previous = private_file.read_json(layout.supervisor_file) or {}
    records = previous.get("children") or {}
    targets = [processes.from_record(r) for r in records.values() if isinstance(r, dict)]
    return processes.alive(t for t in targets if t is not None)


def stop_leftovers(layout: paths.Layout, grace_seconds: float, tell: Callable[[str], None]) -> None:
    """Stop children a crashed supervisor of this directory left running (by identity).

    Called by a new supervisor before it starts anything, and by ``dev up`` before it
    picks the control plane's port (an orphaned control plane would still hold it).
    """
    left = leftovers(layout)
    if not left:
        return
    tell(f"stopping {len(left)} process(es) an earlier supervisor left running: {[t.pid for t in left]}")
    survivors = processes.terminate(left, grace_seconds=grace_seconds)
    if survivors:
        tell(f"could not stop {[t.pid for t in survivors]}")


def _rotate(path: os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        if os.stat(path).st_size > LOG_ROTATE_BYTES:
            os.replace(path, f"{os.fspath(path)}.1")


def _provision(settings: WorldSettings, layout: paths.Layout, spec: children.ChildSpec) -> None:
    if spec.pop is not None:
        provisioning.edge_token(settings, layout, spec.pop)
    elif spec.region is not None:
        provisioning.satellite_token(settings, layout, spec.region)
    elif spec.name == paths.GLOBAL_PROMETHEUS:
        provisioning.scoped_token(settings, layout, "metrics", layout.metrics_token_file)
    elif spec.name == paths.ALERTMANAGER:
        provisioning.scoped_token(settings, layout, "alerts", layout.alerts_token_file)


def serve(settings: WorldSettings, layout: paths.Layout) -> None:
    """The ``dev supervise`` process: hold the pid lock and supervise until SIGTERM.

    Raises :class:`taxiway.dev.pidlock.AlreadyRunning` when another supervisor runs here.
    """
    stop = threading.Event()
    with pidlock.hold(layout.pid_file):
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, lambda *_: stop.set())
        say(f"supervisor (pid {os.getpid()}) for {layout.root}")
        links = wan_file.WanFile(settings, layout) if settings.pops else None
        Supervisor(
            children.all_children(settings, layout),
            layout,
            provision=functools.partial(_provision, settings, layout),
            refresh=links.refresh if links is not None else None,
            control_plane_url=settings.control_plane_url,
        ).run(stop)
        say("supervisor stopped")
