"""The dev world's WAN: which emulated link joins each PoP to each region, and its delay.

**Development only.** On one machine every round trip over loopback is ~0 ms, so an
edge PoP that steers by the RTT it measures could not tell a near region from a far one.
The dev world therefore puts a WAN emulator (:mod:`taxiway.dev.wan_process`) between
each PoP and each region: a TCP relay per (PoP, region) pair on a loopback port of its
own that forwards to the region's ingress and adds the topology's one-way delay
(``latency.pops``) in each direction. It is never on a production path: a real PoP
reaches a real region over a real network, and ``taxiway edge`` only learns the link's
address through ``--pool-address``, which the dev supervisor passes.

This module is the pure part: the links as data (:class:`Link`), built from the
topology, the ports ``dev up`` chose and the ingress addresses the control plane knows
(:func:`links`), and their file ``DIR/wan.json``, which the supervisor writes and the
emulator re-reads whenever it changes::

    {"version": 1, "scale": 0.5,
     "links": [{"pop": "fra", "region": "europe-west1", "port": 41234,
                "target": "127.0.0.1:40001" | null, "delay_ms": 2.0}]}

``target`` is ``null`` until the region's satellite has reported its ingress; the
emulator then refuses that link's connections, as an unreachable region would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from taxiway.spec import topology as topology_model

VERSION = 1


@dataclass(frozen=True)
class Link:
    pop: str
    region: str
    port: int
    """Where the emulator listens for this link (on loopback)."""
    target: tuple[str, int] | None
    """The region's ingress, ``None`` while unknown."""
    delay_ms: float
    """One-way delay, already scaled; added to every chunk in each direction."""

    def to_json(self) -> dict[str, Any]:
        target = f"{self.target[0]}:{self.target[1]}" if self.target is not None else None
        return {
            "pop": self.pop,
            "region": self.region,
            "port": self.port,
            "target": target,
            "delay_ms": self.delay_ms,
        }


def ingress_target(url: str | None) -> tuple[str, int] | None:
    """``http://127.0.0.1:PORT`` -> ``("127.0.0.1", PORT)``; anything else -> ``None``."""
    if not url:
        return None
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or host is None or port is None:
        return None
    return host, port


def delay_ms(topology: topology_model.Topology, pop: str, region: str) -> float:
    """The topology's one-way delay from ``pop`` to ``region`` (0 when it names none)."""
    if topology.latency is None:
        return 0.0
    return float(topology.latency.pops.get(pop, {}).get(region, 0.0))


def links(
    topology: topology_model.Topology,
    ports: Mapping[str, Mapping[str, int]],
    ingress: Mapping[str, str | None],
    scale: float,
) -> list[Link]:
    """One link per (PoP, region) that has a port, in topology order; delays times ``scale``."""
    found = []
    for pop in topology.pops:
        for region in topology.regions:
            port = ports.get(pop.name, {}).get(region)
            if port is None:
                continue
            found.append(
                Link(
                    pop=pop.name,
                    region=region,
                    port=port,
                    target=ingress_target(ingress.get(region)),
                    delay_ms=round(delay_ms(topology, pop.name, region) * scale, 3),
                )
            )
    return found


def document(found: list[Link], scale: float) -> dict[str, Any]:
    return {"version": VERSION, "scale": scale, "links": [link.to_json() for link in found]}


def parse(data: Mapping[str, Any] | None) -> list[Link]:
    """The links of a ``wan.json`` document; entries that do not parse are skipped."""
    parsed = []
    for item in (data or {}).get("links") or []:
        if not isinstance(item, dict):
            continue
        pop, region, port, delay = item.get("pop"), item.get("region"), item.get("port"), item.get("delay_ms")
        if not (isinstance(pop, str) and isinstance(region, str) and isinstance(port, int)):
            continue
        target_text = item.get("target")
        target = None
        if isinstance(target_text, str):
            host, _, port_text = target_text.rpartition(":")
            target = (host, int(port_text)) if host and port_text.isdigit() else None
        parsed.append(
            Link(pop, region, port, target, float(delay) if isinstance(delay, int | float) else 0.0)
        )
    return parsed


def known_ingress(
    previous: Mapping[str, str | None], answer: Mapping[str, str | None]
) -> dict[str, str | None]:
    """Ingress addresses from a new answer, keeping the last known one where it has none:
    a control plane that forgot an address (or is away) does not cut a link."""
    merged = dict(previous)
    for region, url in answer.items():
        if url:
            merged[region] = url
        else:
            merged.setdefault(region, None)
    return merged
