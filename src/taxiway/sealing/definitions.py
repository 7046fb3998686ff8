"""Sealing and unsealing the secret env values inside regional-definition JSON.

A secret env value is ``{"secret": true, "digest": ...}`` plus exactly one of ``value``
(in memory and on the wire to a satellite) or ``sealed`` (at rest). These functions
return new documents and never modify their argument.

Revisions stored before digests were keyed carry bare ``sha256:`` digests of manifest
values. They stay as stored (satellites run them unchanged), but :func:`shown`, what the
API answers owners and admins, puts the keyed digest of the sealed value in their place:
no answer carries a bare digest, and ``plan --remote`` compares keyed with keyed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from taxiway.plan.secret_digest import SecretValue
from taxiway.sealing.keys import Sealer


def _map_secrets(definition: dict[str, Any], change: Callable[[dict[str, Any], str], None]) -> dict[str, Any]:
    """A copy of ``definition`` with ``change(item, name)`` applied to each secret env item."""
    result = copy.deepcopy(definition)
    env = result.get("spec", {}).get("env", {})
    for name, item in env.items():
        if isinstance(item, dict) and item.get("secret") is True:
            change(item, name)
    return result


def seal_values(definition: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """Replace every ``value`` of a secret with ``sealed`` (what a store writes)."""

    def change(item: dict[str, Any], _name: str) -> None:
        if "value" in item:
            item["sealed"] = sealer.seal(item.pop("value"))

    return _map_secrets(definition, change)


def unseal_values(definition: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """Replace every ``sealed`` with its ``value`` (what a satellite is sent and runs)."""

    def change(item: dict[str, Any], _name: str) -> None:
        if "sealed" in item:
            item["value"] = sealer.unseal(item.pop("sealed"))

    return _map_secrets(definition, change)


def strip_values(definition: dict[str, Any]) -> dict[str, Any]:
    """Drop ``value`` and ``sealed``, keeping the digest (what owners and plans see)."""

    def change(item: dict[str, Any], _name: str) -> None:
        item.pop("value", None)
        item.pop("sealed", None)

    return _map_secrets(definition, change)


def shown(definition: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """What an owner or admin is answered: :func:`strip_values`, with a bare ``sha256:``
    digest (a revision stored before digests were keyed) replaced by the keyed digest of
    its sealed value."""

    def change(item: dict[str, Any], name: str) -> None:
        sealed = item.pop("sealed", None)
        item.pop("value", None)
        if isinstance(sealed, str) and str(item.get("digest", "")).startswith("sha256:"):
            secret = SecretValue(
                str(definition.get("service")),
                str(definition.get("environment")),
                name,
                sealer.unseal(sealed),
            )
            item["digest"] = sealer.keyed_digest(secret)

    return _map_secrets(definition, change)
