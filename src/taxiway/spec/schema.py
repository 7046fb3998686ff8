"""JSON Schema export for the three documents users write.

The schemas are generated from the pydantic models, so they never drift from what
``taxiway validate`` accepts; they are committed under ``schemas/`` (a test fails when
they are stale) and referenced from example files for editor completion.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from taxiway.spec.inventory import Inventory
from taxiway.spec.manifest import Manifest
from taxiway.spec.topology import Topology

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://taxiway.dev/schemas/"

KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "service": (Manifest, "A Taxiway service manifest (.taxiway/service.yaml)."),
    "topology": (Topology, "The platform topology: continents, regions, datacenters, nodes, PoPs."),
    "inventory": (Inventory, "The platform inventory: services, owners, allowed regions, quotas."),
}


def export(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one document kind."""
    model, description = KINDS[kind]
    body = model.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"{SCHEMA_BASE}{kind}.schema.json",
        "title": f"Taxiway {kind}",
        "description": description,
    }
    schema.update({k: v for k, v in body.items() if k not in {"title", "description"}})
    return schema


def text(kind: str) -> str:
    """The schema as committed: stable key order, two-space indent, final newline."""
    return json.dumps(export(kind), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
