"""The edge PoPs' HAProxies a dev world left running: found and stopped.

``taxiway edge`` leaves its HAProxy serving when it stops, by design (the next edge on
the same state directory adopts it), so ``dev down`` stops it itself once the edges are
gone, through :class:`taxiway.haproxy.process.Haproxy` on the layout the edge uses
(:attr:`taxiway.edge.settings.EdgeSettings.haproxy_dir`), which trusts a pid only while
/proc shows HAProxy on that config.
"""

from __future__ import annotations

from pathlib import Path

from taxiway.dev import ingresses
from taxiway.edge import settings as edge_settings
from taxiway.haproxy import layout
from taxiway.haproxy import process as haproxy_process
from taxiway.runtime import process


def _haproxy(pop_dir: Path) -> haproxy_process.Haproxy:
    where = edge_settings.EdgeSettings(
        pop=pop_dir.name, control_plane="", token="", state_dir=pop_dir
    ).haproxy_dir
    return haproxy_process.Haproxy(layout.Layout(where))


def running(pop_dir: Path) -> list[process.ProcessId]:
    """The PoP's HAProxy master and workers, if they run."""
    if not (pop_dir / "haproxy").is_dir():
        return []
    return ingresses.haproxy_processes(_haproxy(pop_dir))


def stop(pop_dir: Path) -> bool:
    """Stop the PoP's HAProxy at once; answer if one ran."""
    if not running(pop_dir):
        return False
    _haproxy(pop_dir).stop(graceful=False)
    return True
