"""JSON Schema export for the three documents users write.

The schemas are generated from the pydantic models, so they never drift from what
``taxiway validate`` accepts; they are committed under ``schemas/`` (a test fails when
they are stale), rendered into the reference docs by :mod:`taxiway.spec.reference`, and
referenced from example files for editor completion.

Defaults are shown as a user would write them: factories are called (``traffic_steps``
defaults to ``[10, 50, 100]``, not nothing) and quantities are printed in their text form
(``1m``, ``512Mi``, ``1`` CPU), so every default is itself valid against the schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, NoDefault
from pydantic_core import core_schema

from taxiway.spec import units
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

# Quantities written as text, recognised by their pattern: examples help editors and docs.
_EXAMPLES = {
    units.DURATION_PATTERN: ["250ms", "30s", "5m", "1h", "28d"],
    units.MEMORY_PATTERN: ["256Mi", "2Gi", "1G"],
    units.CPU_PATTERN: ["500m", "0.5", "2"],
}
_VALIDATOR_WRAPPERS = {"function-before", "function-after", "function-wrap"}


def _text_form(core: Mapping[str, Any]) -> Callable[[Any], Any] | None:
    """The plain serializer that prints a quantity back as text (``format_duration``), if any."""
    while True:
        serialization = core.get("serialization")
        if serialization and serialization.get("type") == "function-plain" and not serialization["info_arg"]:
            function: Callable[[Any], Any] = serialization["function"]
            return function
        if core.get("type") not in _VALIDATOR_WRAPPERS:
            return None
        core = core["schema"]


class _Generator(GenerateJsonSchema):
    """pydantic's generator, with defaults a user could paste into a manifest."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        if "default_factory" in schema:
            if schema.get("default_factory_takes_data"):
                return NoDefault
            default = schema["default_factory"]()  # type: ignore[call-arg]
        else:
            default = schema.get("default", NoDefault)
        text_form = _text_form(schema["schema"])
        if text_form is not None and default is not NoDefault and default is not None:
            return text_form(default)
        return default


def _finish(node: Any) -> None:
    """Two touches pydantic's output needs, applied to every node.

    Maps with a key pattern reject other keys, as pydantic does: pydantic exports a
    constrained key as ``patternProperties`` alone, which JSON Schema reads as "keys
    matching this are checked, any other key is fine", so an editor would accept
    ``env: {1BAD: x}`` that ``taxiway validate`` rejects. And quantities get examples.
    """
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        patterns = {option.get("pattern") for option in node.get("anyOf", ()) if isinstance(option, dict)}
        for pattern, examples in _EXAMPLES.items():
            if pattern in patterns:
                node.setdefault("examples", examples)
        for value in node.values():
            _finish(value)
    elif isinstance(node, list):
        for value in node:
            _finish(value)


def export(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one document kind."""
    model, description = KINDS[kind]
    body = model.model_json_schema(by_alias=True, mode="validation", schema_generator=_Generator)
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"{SCHEMA_BASE}{kind}.schema.json",
        "title": f"Taxiway {kind}",
        "description": description,
    }
    schema.update({k: v for k, v in body.items() if k not in {"title", "description"}})
    _finish(schema)
    return schema


def text(kind: str) -> str:
    """The schema as committed: stable key order, two-space indent, final newline."""
    return json.dumps(export(kind), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
