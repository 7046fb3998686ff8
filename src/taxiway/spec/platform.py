"""Loading the platform team's files: the topology and the inventory.

Both get the same treatment as manifests: schema validation with located problems, then
semantic checks (unique names, references that resolve), every problem reported at once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path as FsPath

from taxiway.spec import service_files, validation
from taxiway.spec.document import Document
from taxiway.spec.inventory import Inventory
from taxiway.spec.problem import Path, Problem
from taxiway.spec.topology import Topology


def _duplicates(doc: Document, items: Iterable[tuple[Path, str]], what: str) -> Iterator[Problem]:
    items = list(items)
    counts = Counter(name for _, name in items)
    for path, name in items:
        if counts[name] > 1:
            yield Problem(
                doc.locate(path),
                path,
                f"duplicate {what} name",
                found=name,
                expected="unique names",
            )


def check_topology(topology: Topology, doc: Document) -> Iterator[Problem]:
    regions = []
    for ci, continent in enumerate(topology.continents):
        for ri, region in enumerate(continent.regions):
            base = ("continents", ci, "regions", ri)
            regions.append(((*base, "name"), region.name))
            yield from _duplicates(
                doc,
                (((*base, "datacenters", di, "name"), dc.name) for di, dc in enumerate(region.datacenters)),
                "datacenter",
            )
            for di, dc in enumerate(region.datacenters):
                yield from _duplicates(
                    doc,
                    (
                        ((*base, "datacenters", di, "nodes", ni, "name"), n.name)
                        for ni, n in enumerate(dc.nodes)
                    ),
                    "node",
                )
    yield from _duplicates(
        doc,
        (((("continents", i, "name")), c.name) for i, c in enumerate(topology.continents)),
        "continent",
    )
    yield from _duplicates(doc, regions, "region")
    yield from _duplicates(doc, ((("pops", i, "name"), p.name) for i, p in enumerate(topology.pops)), "PoP")
    continents = {c.name for c in topology.continents}
    for index, edge in enumerate(topology.pops):
        if edge.continent not in continents:
            path: Path = ("pops", index, "continent")
            yield Problem(
                doc.locate(path),
                path,
                "unknown continent",
                found=edge.continent,
                expected=f"one of {sorted(continents)}",
            )
    if topology.latency is not None:
        known_regions = set(topology.regions)
        pops = {p.name for p in topology.pops}
        for pop_name, row in topology.latency.pops.items():
            if pop_name not in pops:
                path = ("latency", "pops", pop_name)
                yield Problem(
                    doc.locate(path, at_key=True),
                    path,
                    "unknown PoP",
                    found=pop_name,
                    expected=f"one of {sorted(pops)}",
                )
            yield from _unknown_regions(doc, ("latency", "pops", pop_name), row, known_regions)
        for source, row in topology.latency.regions.items():
            yield from _unknown_regions(doc, ("latency", "regions"), {source: 0.0}, known_regions)
            yield from _unknown_regions(doc, ("latency", "regions", source), row, known_regions)


def _unknown_regions(doc: Document, base: Path, row: dict[str, float], known: set[str]) -> Iterator[Problem]:
    for region, delay in row.items():
        path = (*base, region)
        if region not in known:
            yield Problem(
                doc.locate(path, at_key=True),
                path,
                "unknown region",
                found=region,
                expected=f"one of {sorted(known)}",
            )
        elif not 0 <= delay < math.inf:  # NaN fails this too
            yield Problem(
                doc.locate(path),
                path,
                "invalid latency",
                found=str(delay),
                expected="milliseconds ≥ 0",
            )


def check_inventory(inventory: Inventory, doc: Document) -> Iterator[Problem]:
    yield from _duplicates(
        doc,
        ((("services", i, "name"), s.name) for i, s in enumerate(inventory.services)),
        "service",
    )


def load_topology(path: FsPath) -> Topology:
    doc = service_files.read(path)
    return validation.validate(Topology, doc, checks=[check_topology])


def load_inventory(path: FsPath, topology: Topology | None = None) -> Inventory:
    """Load the inventory; with a topology, its regions must exist there too."""
    doc = service_files.read(path)
    checks = [check_inventory]
    if topology is not None:
        checks.append(lambda inventory, doc: check_inventory_against(inventory, topology, doc))
    return validation.validate(Inventory, doc, checks=checks).from_source(str(path), doc)


def check_inventory_against(inventory: Inventory, topology: Topology, doc: Document) -> Iterator[Problem]:
    """Inventory regions must exist in the topology."""
    for si, service in enumerate(inventory.services):
        for ri, region in enumerate(service.regions):
            if region not in topology.regions:
                path = ("services", si, "regions", ri)
                yield Problem(
                    doc.locate(path),
                    path,
                    "unknown region",
                    found=region,
                    expected=f"one of {sorted(topology.regions)}",
                )
