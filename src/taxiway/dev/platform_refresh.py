"""``taxiway dev up`` on a world that is up already: apply its platform files, or say why not.

Called by :mod:`taxiway.dev.bringup`. The running control plane reloads its topology and
inventory files by itself when they change; this makes that explicit and immediate:
when ``up`` names the files the world runs with, they are checked (located problems
fail ``up``) and the control plane is sent SIGHUP; when it names other files, nothing is
changed and the notes say how to switch. Regions the world has no satellite for need a
new world, and the notes say that too.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from taxiway.dev import layout as paths
from taxiway.dev import private_file, processes
from taxiway.dev import settings as world_settings
from taxiway.runtime import process
from taxiway.spec import platform


def apply(
    layout: paths.Layout, settings: world_settings.WorldSettings, topology: Path, inventory: Path
) -> list[str]:
    """Reload the world's platform files in its control plane; answer what was done, as notes."""
    topology, inventory = topology.resolve(), inventory.resolve()
    others = [
        f"--{what} {given} (the world runs with {running})"
        for what, given, running in (
            ("topology", topology, settings.topology),
            ("inventory", inventory, settings.inventory),
        )
        if given != running
    ]
    if others:
        return [
            f"not applied: {'; '.join(others)}. Edit the world's files (the control plane reloads them on "
            "change), register services with `taxiway services create`, or start over with "
            "`taxiway dev down` and `taxiway dev up` with the new files"
        ]
    loaded = platform.load_topology(topology)
    platform.load_inventory(inventory, loaded)  # located problems fail `up`, before any signal
    notes = []
    record = (
        (private_file.read_json(layout.supervisor_file) or {}).get("children", {}).get(paths.CONTROL_PLANE)
    )
    identity = processes.from_record(record if isinstance(record, dict) else None)
    if identity is not None and process.alive(identity):
        os.kill(identity.pid, signal.SIGHUP)
        log = layout.log_file(paths.CONTROL_PLANE)
        notes.append(
            f"asked the control plane (pid {identity.pid}) to reload {topology} and {inventory} (SIGHUP); "
            f"it also reloads them by itself whenever they change (see {log})"
        )
    else:
        notes.append("the control plane is not running; the supervisor restarts it with these files")
    missing = sorted(set(loaded.regions) - set(settings.regions))
    if missing:
        notes.append(
            f"the topology has regions this world runs no satellite for ({', '.join(missing)}): "
            "`taxiway dev down` then `taxiway dev up` to start them"
        )
    return notes
