"""The ``local`` runtime driver: every instance is an OS process on this machine.

The embedded default, and what ``taxiway dev up`` runs. A satellite holds one
:class:`LocalDriver` over its state directory::

    <state_dir>/.lock                        serialises changes across processes (flock)
    <state_dir>/instances/<id>/state.json    what the driver asked for (no secret values)
    <state_dir>/instances/<id>/process.json  pids and /proc start times, written by the shim
    <state_dir>/instances/<id>/exit.json     exit status, written by the shim
    <state_dir>/instances/<id>/instance.log  stdout+stderr, one timestamp a line, rotated by size (.1, .2, …)
    <state_dir>/instances/<id>/home/         the instance's ``HOME`` (0700), kept across its restarts
                                             (in the tenant directory when instances are isolated)

An instance runs under a shim (:mod:`taxiway.runtime.shim`) in sessions of their own, so
neither is the satellite's child: ``kill -9`` of the satellite leaves them running. Each
gets a free loopback port (``PORT``; kept across restarts while it stays free), the spec's
env with the platform variables on top, ``HOME`` set to its own directory (unless the
spec's env sets one), and only ``PATH``/locale/``TZ`` from the satellite's own
environment — never its token, and never Taxiway's own virtualenv on ``PATH`` (an app must
not run on the platform's packages by accident). ``docs/runtime-local.md`` is this
contract as users read it.

Re-adoption: the first use of a driver object runs :meth:`LocalDriver.recover`, which
reads every instance directory, keeps the instances whose process is still the one that
was started (pid *and* ``/proc`` start time match, so a reused pid is never mistaken for an
instance nor signalled), and removes the records of dead ones, stopping a stray shim or a
half-started launch. ``list`` then reports the adopted instances with their original pids:
a restarted satellite sees what runs and starts nothing twice.

Probe verdicts live in memory only (they restart from "not ready" after adoption and are
re-earned within a probe period); everything else a restarted driver needs is on disk.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxiway.plan.region import health, instance_spec
from taxiway.runtime import driver, logfile, probes, process, shim, statefile, tenancy
from taxiway.spec import manifest
from taxiway.system import environment, ports

STATE_FILE = "state.json"
HOME_DIR = "home"
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
"""An instance's ``PATH`` when the satellite has none (or only Taxiway's virtualenv)."""


def instance_path(satellite_path: str | None, own_bin_dirs: Collection[str]) -> str:
    """The satellite's ``PATH`` without Taxiway's own virtualenv (``own_bin_dirs``)."""
    own = {os.path.normpath(entry) for entry in own_bin_dirs}
    kept = [entry for entry in (satellite_path or "").split(os.pathsep) if entry]
    kept = [entry for entry in kept if os.path.normpath(entry) not in own]
    return os.pathsep.join(kept) if kept else DEFAULT_PATH


def own_virtualenv_bins() -> tuple[str, ...]:
    """Where this interpreter's virtualenv keeps its scripts; none outside a virtualenv.

    Outside one, ``sys.prefix`` is the system's (``/usr``), whose ``bin`` apps may need.
    """
    if sys.prefix == sys.base_prefix:
        return ()
    return (os.path.join(sys.prefix, "bin"),)


@dataclass(frozen=True)
class LocalSettings:
    state_dir: Path
    host: str = "127.0.0.1"
    rotation: logfile.Rotation = field(default_factory=logfile.Rotation)
    launch_timeout_seconds: float = 10.0
    kill_timeout_seconds: float = 5.0
    """How long to wait for a process to vanish after SIGKILL before giving up."""
    python: str = sys.executable
    """Interpreter that runs the shims; must be able to import ``taxiway``."""
    hidden_bin_dirs: tuple[str, ...] = field(default_factory=own_virtualenv_bins)
    """Directories never put on an instance's ``PATH``: Taxiway's own virtualenv."""
    isolation: tenancy.Tenancy | None = None
    """Set: every instance runs as its service's own user, its HOME in the tenant directory
    (:mod:`taxiway.runtime.tenancy`). Unset: as the driver's user, HOME under ``state_dir``."""


@dataclass(frozen=True)
class RecoveryReport:
    adopted: tuple[str, ...]
    cleaned: tuple[str, ...]


@dataclass(frozen=True)
class _Record:
    """One instance directory as found on disk."""

    directory: Path
    state: dict[str, Any]
    instance: process.ProcessId | None
    shim: process.ProcessId | None
    started_at: float
    exit_code: int | None

    @property
    def running(self) -> bool:
        return self.instance is not None and process.alive(self.instance)


class LocalDriver:
    """Runs instances as OS processes; see the module docstring. Thread-safe."""

    def __init__(self, settings: LocalSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._instances_dir = settings.state_dir / "instances"
        self._mutex = threading.RLock()
        self._recovered = False
        self._first_recovery: RecoveryReport | None = None
        self._health: dict[str, tuple[int, health.HealthState]] = {}

    # -- locking and recovery ---------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._mutex:
            self._instances_dir.mkdir(parents=True, exist_ok=True)
            with open(self._settings.state_dir / ".lock", "a+b") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    if not self._recovered:
                        self._recovered = True
                        self._first_recovery = self._recover()
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def recover(self) -> RecoveryReport:
        """Adopt running instances and clean up dead ones.

        Done on a driver's first use anyway; the first call returns that first recovery's
        report (for the satellite to log), later calls recover again.
        """
        with self._locked():
            report, self._first_recovery = self._first_recovery, None
            return report if report is not None else self._recover()

    def _recover(self) -> RecoveryReport:
        adopted: list[str] = []
        cleaned: list[str] = []
        for directory in sorted(self._instances_dir.iterdir()):
            if not directory.is_dir():
                continue
            record = self._load(directory.name)
            if record is not None and record.running:
                adopted.append(directory.name)
                continue
            # Dead, or a launch that never completed: nothing of it may keep running.
            raw = statefile.read(directory / shim.PROCESS_FILE) or {}
            for pid_key, start_key in (("pid", "start_time"), ("shim_pid", "shim_start_time")):
                if isinstance(raw.get(pid_key), int) and isinstance(raw.get(start_key), int):
                    self._kill_now(process.ProcessId(raw[pid_key], raw[start_key]))
            shutil.rmtree(directory, ignore_errors=True)
            self._forget_home(directory.name)
            cleaned.append(directory.name)
        return RecoveryReport(tuple(adopted), tuple(cleaned))

    # -- reading state ----------------------------------------------------------------

    def _load(self, instance_id: str) -> _Record | None:
        directory = self._instances_dir / instance_id
        state = statefile.read(directory / STATE_FILE)
        if state is None:
            return None
        raw = statefile.read(directory / shim.PROCESS_FILE)
        instance = shim_process = None
        started_at = float(state.get("launched_at", 0.0))
        if raw is not None:
            instance = process.ProcessId(int(raw["pid"]), int(raw["start_time"]))
            shim_process = process.ProcessId(int(raw["shim_pid"]), int(raw["shim_start_time"]))
            started_at = float(raw["started_at"])
        exited = statefile.read(directory / shim.EXIT_FILE)
        exit_code = int(exited["returncode"]) if exited else None
        return _Record(directory, state, instance, shim_process, started_at, exit_code)

    def _observe(self, record: _Record) -> instance_spec.Instance:
        state = record.state
        running = record.running
        tracked = self._health.get(record.directory.name)
        ready = bool(
            running and record.instance and tracked and tracked[0] == record.instance.pid and tracked[1].ready
        )
        return instance_spec.Instance(
            instance_id=record.directory.name,
            service=state["service"],
            environment=state["environment"],
            region=state["region"],
            revision=state["revision"],
            datacenter=state["datacenter"],
            node=state["node"],
            spec_digest=state["spec_digest"],
            state=instance_spec.InstanceState.RUNNING if running else instance_spec.InstanceState.EXITED,
            pid=record.instance.pid if record.instance else None,
            port=state["port"],
            started_at=record.started_at,
            restarts=state["restarts"],
            ready=ready,
            exit_code=None if running else record.exit_code,
            check_path=_check_path(state.get("probes")),
            cwd=Path(state["cwd"]) if isinstance(state.get("cwd"), str) else None,
        )

    def list(self) -> list[instance_spec.Instance]:
        with self._locked():
            names = sorted(path.name for path in self._instances_dir.iterdir() if path.is_dir())
            records = [self._load(name) for name in names]
            return [self._observe(record) for record in records if record is not None]

    # -- starting ---------------------------------------------------------------------

    def start(self, spec: instance_spec.InstanceSpec) -> instance_spec.Instance:
        if not re.fullmatch(driver.INSTANCE_ID, spec.instance_id):
            raise driver.StartFailed(f"{spec.instance_id!r} is not a valid instance id")
        digest = spec.digest()
        with self._locked():
            record = self._load(spec.instance_id)
            if record is not None and record.running:
                if record.state["spec_digest"] == digest:
                    return self._observe(record)
                raise driver.InstanceConflict(
                    f"{spec.instance_id} runs with another spec; stop it before starting a new one"
                )
            if record is not None and record.shim is not None:
                self._kill_now(record.shim)  # a shim still draining a dead instance's pipe
            port = self._port_for(spec, record)
            directory = self._instances_dir / spec.instance_id
            directory.mkdir(exist_ok=True)
            for stale in (shim.PROCESS_FILE, shim.EXIT_FILE):
                (directory / stale).unlink(missing_ok=True)
            # The record goes to disk before the process exists, so no crash can leave an
            # instance running that no state file mentions.
            statefile.write(directory / STATE_FILE, self._state_document(spec, digest, port, record))
            pid = self._launch(spec, directory, port)
            self._health[spec.instance_id] = (pid, health.HealthState(started_at=self._clock()))
            launched = self._load(spec.instance_id)
            assert launched is not None
            return self._observe(launched)

    def _state_document(
        self, spec: instance_spec.InstanceSpec, digest: str, port: int, previous: _Record | None
    ) -> dict[str, Any]:
        return {
            "version": 1,
            "service": spec.service,
            "environment": spec.environment,
            "region": spec.region,
            "revision": spec.revision,
            "datacenter": spec.datacenter,
            "node": spec.node,
            "argv": list(spec.argv),
            "cwd": str(spec.cwd) if spec.cwd else None,
            "env_names": sorted(spec.env),  # names only: values may be secrets
            "probes": spec.probes.model_dump(mode="json"),
            "stop_grace_seconds": spec.stop_grace_seconds,
            "spec_digest": digest,
            "port": port,
            "restarts": previous.state["restarts"] + 1 if previous is not None else 0,
            "launched_at": time.time(),
        }

    def _launch(self, spec: instance_spec.InstanceSpec, directory: Path, port: int) -> int:
        request: dict[str, Any] = {}
        isolated = self._settings.isolation
        if isolated is not None:
            identity = isolated.identity(spec.service)
            home = isolated.home(spec.instance_id, identity)
            request |= {
                "user": identity.uid,
                "group": identity.gid,
                "extra_groups": isolated.groups_for(spec.cwd),
            }
        else:
            home = directory / HOME_DIR
            home.mkdir(mode=0o700, exist_ok=True)
            home.chmod(0o700)  # whatever the umask, and for a home made by an older version
        env = environment.passthrough()
        env["PATH"] = instance_path(os.environ.get("PATH"), self._settings.hidden_bin_dirs)
        env["HOME"] = str(home)  # the manifest's env may set either, and wins
        env.update(driver.platform_env(spec, port))
        request |= {
            "argv": list(spec.argv),
            "cwd": str(spec.cwd) if spec.cwd else None,
            "env": env,
            "max_bytes": self._settings.rotation.max_bytes,
            "keep": self._settings.rotation.keep,
        }
        try:
            result = subprocess.run(
                [self._settings.python, "-m", "taxiway.runtime.shim", str(directory)],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=self._settings.launch_timeout_seconds,
                check=False,
                start_new_session=True,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise driver.StartFailed(f"{spec.instance_id}: could not launch its shim: {exc}") from exc
        try:
            report = json.loads(result.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            report = {"ok": False, "error": result.stderr.strip() or "shim gave no answer"}
        if not report.get("ok"):
            raise driver.StartFailed(f"{spec.instance_id}: {report.get('error')}")
        return int(report["pid"])

    def _port_for(self, spec: instance_spec.InstanceSpec, previous: _Record | None) -> int:
        if spec.port is not None:
            return spec.port
        taken: set[int] = set()
        for path in self._instances_dir.iterdir():
            state = statefile.read(path / STATE_FILE)
            if state is not None and path.name != spec.instance_id and isinstance(state.get("port"), int):
                taken.add(state["port"])
        # A restart keeps its address for the ingress.
        kept = int(previous.state["port"]) if previous is not None else None
        try:
            return ports.keep_or_pick(kept, self._settings.host, avoid=taken)
        except OSError:
            raise driver.StartFailed(f"{spec.instance_id}: no free port on {self._settings.host}") from None

    # -- stopping ---------------------------------------------------------------------

    def stop(self, instance_id: str, *, grace_seconds: float | None = None, forget: bool = True) -> None:
        with self._locked():
            record = self._load(instance_id)
        if record is None:
            if forget:
                with self._locked():
                    shutil.rmtree(self._instances_dir / instance_id, ignore_errors=True)
                    self._forget_home(instance_id)
            return
        grace = float(record.state["stop_grace_seconds"]) if grace_seconds is None else grace_seconds
        if record.instance is not None and process.alive(record.instance):
            process.signal_group(record.instance, signal.SIGTERM)
            if not self._wait_gone(record.instance, grace):
                process.signal_group(record.instance, signal.SIGKILL)
                self._wait_gone(record.instance, self._settings.kill_timeout_seconds)
        if record.shim is not None and not self._wait_gone(record.shim, self._settings.kill_timeout_seconds):
            self._kill_now(record.shim)
        with self._locked():
            self._health.pop(instance_id, None)
            if forget:
                shutil.rmtree(record.directory, ignore_errors=True)
                self._forget_home(instance_id)

    def _forget_home(self, instance_id: str) -> None:
        if self._settings.isolation is not None:
            self._settings.isolation.forget_home(instance_id)

    def _wait_gone(self, target: process.ProcessId, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while process.alive(target):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)  # polling a process we cannot wait(): it is not our child
        return True

    def _kill_now(self, target: process.ProcessId) -> None:
        process.signal_group(target, signal.SIGKILL)
        self._wait_gone(target, self._settings.kill_timeout_seconds)

    # -- health and logs --------------------------------------------------------------

    def health(self, instance_id: str) -> driver.Health:
        with self._locked():
            record = self._load(instance_id)
        if record is None:
            raise driver.InstanceNotFound(f"no instance {instance_id}")
        if record.instance is None or not record.running:
            status = "unknown status" if record.exit_code is None else f"exit status {record.exit_code}"
            return driver.Health(instance_id, False, False, False, f"process is not running ({status})")
        spec_probes = manifest.Probes.model_validate(record.state["probes"], strict=False)
        pid = record.instance.pid
        tracked = self._health.get(instance_id)
        state = tracked[1] if tracked and tracked[0] == pid else health.HealthState(started_at=self._clock())
        now = self._clock()
        for kind in health.due(state, spec_probes, now):
            result = probes.check(getattr(spec_probes, kind), self._settings.host, int(record.state["port"]))
            state = health.record(state, spec_probes, kind, result.ok, self._clock(), result.error)
        self._health[instance_id] = (pid, state)
        return driver.Health(
            instance_id=instance_id,
            started=state.started,
            ready=state.ready,
            healthy=state.healthy(spec_probes),
            reason=state.reason(spec_probes),
        )

    def logs(self, instance_id: str, *, tail: int = 100) -> builtins.list[str]:
        directory = self._instances_dir / instance_id
        if not (directory / STATE_FILE).exists():
            raise driver.InstanceNotFound(f"no instance {instance_id}")
        return logfile.tail(directory / shim.LOG_NAME, self._settings.rotation.keep, tail)


def _check_path(probes: object) -> str | None:
    """:func:`instance_spec.check_path` of a state file's probes, read without validating them
    all again on every ``list``."""
    readiness = probes.get("readiness") if isinstance(probes, dict) else None
    if not isinstance(readiness, dict) or readiness.get("protocol", "http") != "http":
        return None
    path = readiness.get("path")
    return path if isinstance(path, str) else None
