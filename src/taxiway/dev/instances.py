"""The instances a dev world's satellites left running, found and stopped through the local driver.

Instances are nobody's children: the local driver runs each under a shim in a session of
its own, so they survive their satellite (by design) and the supervisor. ``dev down``
therefore stops them itself, after the satellites are gone (so none restarts them),
through :class:`taxiway.runtime.local.LocalDriver` on every driver state directory under
``DIR/regions/<region>/``.

Where a satellite keeps its driver's state below its state directory is the satellite's
business; a driver state directory is recognised by what the local driver writes there
(a ``.lock`` file beside an ``instances/`` directory), looked for a few levels deep.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from taxiway.runtime import local, process, shim, statefile

SEARCH_DEPTH = 3
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class Found:
    state_dir: Path
    instance_id: str
    processes: tuple[process.ProcessId, ...]
    """The instance's process and its shim, as the shim recorded them."""


def driver_state_dirs(root: Path, depth: int = SEARCH_DEPTH) -> Iterator[Path]:
    """Every local-driver state directory at most ``depth`` levels below ``root``."""
    if not root.is_dir():
        return
    if (root / "instances").is_dir() and (root / ".lock").is_file():
        yield root
    if depth <= 0:
        return
    with os.scandir(root) as entries:
        children = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
    for name in children:
        if name != "instances":
            yield from driver_state_dirs(root / name, depth - 1)


def find(root: Path) -> list[Found]:
    """Every instance recorded under ``root``, with the processes its records name."""
    found = []
    for state_dir in driver_state_dirs(root):
        for directory in sorted((state_dir / "instances").iterdir()):
            if not directory.is_dir():
                continue
            raw = statefile.read(directory / shim.PROCESS_FILE) or {}
            ids = []
            for pid_key, start_key in (("pid", "start_time"), ("shim_pid", "shim_start_time")):
                pid, start = raw.get(pid_key), raw.get(start_key)
                if isinstance(pid, int) and isinstance(start, int):
                    ids.append(process.ProcessId(pid, start))
            found.append(Found(state_dir, directory.name, tuple(ids)))
    return found


def running(root: Path) -> list[process.ProcessId]:
    """The instance and shim processes recorded under ``root`` that are alive now."""
    return [pid for item in find(root) for pid in item.processes if process.alive(pid)]


def stop_all(root: Path, grace_seconds: float = STOP_GRACE_SECONDS) -> list[str]:
    """Stop and forget every instance under ``root``, in parallel; answer their ids."""
    found = find(root)
    drivers = {
        state_dir: local.LocalDriver(local.LocalSettings(state_dir=state_dir))
        for state_dir in {item.state_dir for item in found}
    }
    if not found:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(found))) as pool:
        futures = [
            pool.submit(drivers[item.state_dir].stop, item.instance_id, grace_seconds=grace_seconds)
            for item in found
        ]
        for future in futures:
            future.result()
    return [item.instance_id for item in found]
