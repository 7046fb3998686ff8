"""Sealing and unsealing the secret env values inside regional-definition JSON.

A secret env value is ``{"secret": true, "digest": ...}`` plus exactly one of ``value``
(in memory and on the wire to a satellite) or ``sealed`` (at rest). These functions
return new documents and never modify their argument.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from taxiway.sealing.keys import Sealer


def _map_secrets(definition: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    result = copy.deepcopy(definition)
    env = result.get("spec", {}).get("env", {})
    for item in env.values():
        if isinstance(item, dict) and item.get("secret") is True:
            change(item)
    return result


def seal_values(definition: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """Replace every ``value`` of a secret with ``sealed`` (what a store writes)."""

    def change(item: dict[str, Any]) -> None:
        if "value" in item:
            item["sealed"] = sealer.seal(item.pop("value"))

    return _map_secrets(definition, change)


def unseal_values(definition: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """Replace every ``sealed`` with its ``value`` (what a satellite is sent and runs)."""

    def change(item: dict[str, Any]) -> None:
        if "sealed" in item:
            item["value"] = sealer.unseal(item.pop("sealed"))

    return _map_secrets(definition, change)


def strip_values(definition: dict[str, Any]) -> dict[str, Any]:
    """Drop ``value`` and ``sealed``, keeping the digest (what owners and plans see)."""

    def change(item: dict[str, Any]) -> None:
        item.pop("value", None)
        item.pop("sealed", None)

    return _map_secrets(definition, change)
