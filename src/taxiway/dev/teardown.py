"""``taxiway dev down``: stop a dev world and everything it started, and make sure of it.

Order matters. The supervisor goes first (SIGTERM: it stops the satellites and the
control plane, the edges and the WAN emulator), so nothing restarts what follows; then
any child a crashed supervisor left running; then each PoP's HAProxy, each region's
ingress HAProxy and every instance the satellites' local drivers know (all outlive their
edge or satellite on purpose, so only this stops them). Last, every process recorded
along the way — supervisor, children, HAProxies, instances and their shims, each by pid
*and* /proc start time — must be gone within a deadline; whatever is not is killed and
reported.

The database, the tokens and the logs stay, so the next ``dev up`` resumes the world;
``purge`` deletes the directory as well.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxiway.dev import edges, ingresses, instances, pidlock, private_file, processes
from taxiway.dev import layout as paths
from taxiway.dev import supervisor as world_supervisor
from taxiway.errors import ConfigurationError
from taxiway.runtime import process

# The supervisor gives its children a grace, then SIGKILLs them: give it that, and a margin.
SUPERVISOR_SECONDS = world_supervisor.STOP_GRACE_SECONDS + 5.0
LEFTOVER_GRACE_SECONDS = 5.0
VERIFY_SECONDS = 10.0


@dataclass(frozen=True)
class DownResult:
    was_running: bool
    stopped_processes: tuple[int, ...]
    stopped_instances: tuple[str, ...]
    left_behind: tuple[int, ...]
    purged: bool


def _supervisor(layout: paths.Layout, record: dict[str, Any]) -> process.ProcessId | None:
    recorded = processes.from_record(record.get("supervisor"))
    if recorded is not None and process.alive(recorded):
        return recorded
    if pidlock.is_held(layout.pid_file):  # running, but has not written supervisor.json yet
        pid = pidlock.read_pid(layout.pid_file)
        return process.identify(pid) if pid else None
    return None


def down(directory: Path, *, purge: bool = False) -> DownResult:
    layout = paths.Layout(directory.resolve())
    if not layout.root.is_dir():
        return DownResult(False, (), (), (), False)
    if purge and not layout.is_world():
        raise ConfigurationError(f"{layout.root} does not look like a dev world's directory; not deleting it")
    with pidlock.exclusive(layout.up_lock):
        record = private_file.read_json(layout.supervisor_file) or {}
        supervisor = _supervisor(layout, record)
        children = [
            pid
            for pid in (processes.from_record(r) for r in (record.get("children") or {}).values())
            if pid is not None
        ]
        tracked = [*([supervisor] if supervisor else []), *children]
        was_running = bool(processes.alive(tracked))
        if supervisor is not None:
            processes.terminate([supervisor], grace_seconds=SUPERVISOR_SECONDS)
        processes.terminate(processes.alive(children), grace_seconds=LEFTOVER_GRACE_SECONDS)
        region_dirs = sorted(layout.regions_dir.iterdir()) if layout.regions_dir.is_dir() else []
        pop_dirs = sorted(layout.pops_dir.iterdir()) if layout.pops_dir.is_dir() else []
        instance_processes = [
            *(pid for pop_dir in pop_dirs for pid in edges.running(pop_dir)),
            *(
                pid
                for region_dir in region_dirs
                for pid in (*ingresses.running(region_dir), *instances.running(region_dir))
            ),
        ]
        for pop_dir in pop_dirs:  # the PoPs first: they stop sending traffic to the regions
            edges.stop(pop_dir)
        for region_dir in region_dirs:  # the ingress first: it stops routing to what follows
            ingresses.stop(region_dir)
        stopped = [name for region_dir in region_dirs for name in instances.stop_all(region_dir)]
        tracked += instance_processes
        left = processes.wait_gone(tracked, VERIFY_SECONDS)
        if left:
            left = processes.terminate(left, grace_seconds=0.0)
        layout.dev_file.unlink(missing_ok=True)
    purged = False
    if purge and not left:
        shutil.rmtree(layout.tenants_root, ignore_errors=True)
        shutil.rmtree(layout.root)
        purged = True
    return DownResult(
        was_running=was_running or bool(instance_processes),
        stopped_processes=tuple(sorted({p.pid for p in tracked})),
        stopped_instances=tuple(stopped),
        left_behind=tuple(p.pid for p in left),
        purged=purged,
    )
