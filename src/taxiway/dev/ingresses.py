"""The region ingress HAProxies a dev world's satellites left running: found and stopped.

Each satellite runs its region's ingress HAProxy detached, like its instances, so that
the data plane serves on without it; the satellite never stops it. ``dev down`` does,
after the satellites are gone, through the satellite's own
:func:`taxiway.satellite.ingress.stop` (which knows where the ingress keeps its files
and trusts a pid only while /proc shows HAProxy on that config).
"""

from __future__ import annotations

from pathlib import Path

from taxiway.haproxy import process as haproxy_process
from taxiway.runtime import process
from taxiway.satellite import ingress


def running(region_dir: Path) -> list[process.ProcessId]:
    """The ingress master of the satellite with this state directory and its workers, if up."""
    if not (region_dir / "ingress").is_dir():
        return []
    return haproxy_processes(haproxy_process.Haproxy(ingress.layout_for(region_dir)))


def haproxy_processes(proxy: haproxy_process.Haproxy) -> list[process.ProcessId]:
    """That HAProxy's master (if it runs on its config) and the master's workers."""
    master = proxy.master_pid()
    if master is None:
        return []
    found = [process.identify(master)]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent(entry) == master:
            found.append(process.identify(int(entry.name)))
    return [p for p in found if p is not None and process.alive(p)]


def stop(region_dir: Path) -> bool:
    """Stop that ingress at once (no graceful drain: the world is going down); answer if one ran."""
    if not running(region_dir):
        return False
    ingress.stop(region_dir, graceful=False)
    return True


def _parent(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])
