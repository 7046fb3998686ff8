"""Where the PoP's HAProxy listens, chosen once and kept in the state directory.

``--listen 127.0.0.1:0`` (and ``--metrics-listen``, HAProxy's exporter, and
``--edge-metrics-listen``, the edge process's own metrics) mean "any free port": the first start
picks one and writes it to ``edge.json``; every later start with ``:0`` and the same host
reuses it, so a restarted edge adopts its running HAProxy without moving it, and whoever
sends traffic to the PoP (the dev world, a test) reads the port from that file. If no
HAProxy of ours runs and another program took a kept port meanwhile, a new one is
chosen (with a warning). An explicit port always wins and is written down in turn.

``edge.json``::

    {"pop": "iad", "listen": {"host": "127.0.0.1", "port": 41234},
     "metrics": {"host": "127.0.0.1", "port": 41235},
     "edge_metrics": {"host": "127.0.0.1", "port": 41236},
     "url": "http://127.0.0.1:41234", "metrics_url": "http://127.0.0.1:41235/metrics",
     "edge_metrics_url": "http://127.0.0.1:41236/metrics"}

The edge's own metrics port is held by the edge process, not by HAProxy: a restarted edge
finds it free (the previous one is gone) and binds it again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxiway.errors import ConfigurationError
from taxiway.plan.haproxy import config
from taxiway.system import atomic_file, json_file, ports

log = logging.getLogger(__name__)


NOT_CHOSEN = config.Endpoint("127.0.0.1", 0)
"""An address not chosen yet (port 0), as in tests that build :class:`Listeners` directly."""


@dataclass(frozen=True)
class Listeners:
    listen: config.Endpoint
    metrics: config.Endpoint
    edge_metrics: config.Endpoint = NOT_CHOSEN
    """The edge process's own ``/metrics`` (port 0: not chosen, as in unit tests)."""

    @staticmethod
    def url(endpoint: config.Endpoint) -> str:
        host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
        return f"http://{host}:{endpoint.port}"

    def to_json(self, pop: str) -> dict[str, Any]:
        return {
            "pop": pop,
            "listen": {"host": self.listen.host, "port": self.listen.port},
            "metrics": {"host": self.metrics.host, "port": self.metrics.port},
            "edge_metrics": {"host": self.edge_metrics.host, "port": self.edge_metrics.port},
            "url": self.url(self.listen),
            "metrics_url": self.url(self.metrics) + "/metrics",
            "edge_metrics_url": self.url(self.edge_metrics) + "/metrics",
        }


def _saved_port(saved: dict[str, Any], key: str, host: str) -> int | None:
    entry = saved.get(key)
    if not isinstance(entry, dict) or entry.get("host") != host:
        return None
    port = entry.get("port")
    return port if isinstance(port, int) and 0 < port < 65536 else None


def resolve(
    path: Path,
    pop: str,
    listen: tuple[str, int],
    metrics: tuple[str, int],
    *,
    in_use: bool = False,
    edge_metrics: tuple[str, int] = ("127.0.0.1", 0),
) -> Listeners:
    """The addresses to use, written to ``path``; ``in_use``: our HAProxy runs and holds
    the kept ports (not ``edge_metrics``, which this process binds). See the module docstring."""
    saved = json_file.read(path) or {}
    wanted = {"listen": listen, "metrics": metrics, "edge_metrics": edge_metrics}
    chosen_ports: dict[str, int] = {}
    for key, (host, port) in wanted.items():
        if port:
            chosen_ports[key] = port
            continue
        kept = _saved_port(saved, key, host)
        try:
            held = in_use and key != "edge_metrics"
            chosen_ports[key] = ports.keep_or_pick(kept, host, avoid=chosen_ports.values(), ours=held)
        except OSError as exc:
            raise ConfigurationError(f"cannot find a free port on {host}: {exc}") from exc
        if kept is not None and chosen_ports[key] != kept:
            log.warning(
                "%s port %d of PoP %s is taken by another program now; choosing another", key, kept, pop
            )
    chosen = Listeners(
        listen=config.Endpoint(listen[0], chosen_ports["listen"]),
        metrics=config.Endpoint(metrics[0], chosen_ports["metrics"]),
        edge_metrics=config.Endpoint(edge_metrics[0], chosen_ports["edge_metrics"]),
    )
    if chosen.listen == chosen.metrics:
        raise ConfigurationError(f"--listen and --metrics-listen are both {listen[0]}:{listen[1]}")
    for flag, endpoint in (("--listen", chosen.listen), ("--metrics-listen", chosen.metrics)):
        if endpoint == chosen.edge_metrics:
            raise ConfigurationError(
                f"{flag} and --edge-metrics-listen are both {endpoint.host}:{endpoint.port}"
            )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        atomic_file.write_text(path, json.dumps(chosen.to_json(pop), indent=1) + "\n")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot record the PoP's addresses ({exc})") from exc
    return chosen
