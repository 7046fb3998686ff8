"""Keyed digests of secret env values: what plans, renderings and the API show in their place.

A bare SHA-256 of a short secret is no secret: a word list finds it. So a digest is an
HMAC under a key its reader does not hold, over the value *and* where it lives::

    HMAC-SHA256(key, "taxiway secret digest v1" \\0 service \\0 environment \\0 name \\0 value)

Service and name in the input make equal values in two services (or under two names)
digest apart, so a digest says nothing of another service's values. The environment is in
it too: a secret is set per (service, environment, name), nothing compares one
environment's digests with another's, and "production's password is staging's" is itself
worth hiding. Service, environment and name cannot hold a NUL (DNS label, environment
name, env var name) and the value comes last, so the input reads one way only.

Two keys exist. The control plane's (derived from its key file, see
:mod:`taxiway.sealing.keys`) keys every digest it stores, shows or sends: labelled
``hmac-sha256:``. Commands that run without a control plane (``render``, ``plan`` without
``--remote``) key with a per-user local key, labelled ``local-hmac-sha256:``; those are
compared only with each other (``render``, then ``plan --state``), never with the control
plane's. ``sha256:`` (bare) is what revisions stored before keyed digests carry: read,
never written.

Pure: callers pass the key. Who calls: derivation (every secret env value), the control
plane's secret routes, the CLI's ``plan --remote`` (:func:`rekeyed`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from taxiway.plan.regional import RegionalDefinition, SecretEnv

CONTROL_PLANE = "hmac-sha256"
"""The label of digests keyed by the control plane's key."""
LOCAL = "local-hmac-sha256"
"""The label of digests keyed by a user's local key (commands without a control plane)."""
_CONTEXT = b"taxiway secret digest v1"


@dataclass(frozen=True)
class SecretValue:
    """One secret value and where it lives (what a digest is computed over)."""

    service: str
    environment: str
    name: str
    value: str = field(repr=False)


Digester = Callable[[SecretValue], str]
"""Answers the digest of a secret value (derivation takes one)."""


class Keyer:
    """HMAC-SHA256 digests of secret values under one key, labelled ``label:``."""

    def __init__(self, key: bytes, label: str = CONTROL_PLANE) -> None:
        self._key = key
        self.label = label

    def __repr__(self) -> str:
        return f"Keyer(label={self.label!r})"  # never the key

    def __call__(self, secret: SecretValue) -> str:
        message = b"\0".join(
            part.encode("utf-8") for part in (secret.service, secret.environment, secret.name, secret.value)
        )
        mac = hmac.new(self._key, _CONTEXT + b"\0" + message, hashlib.sha256)
        return f"{self.label}:{mac.hexdigest()}"


def secret_values(definitions: Mapping[str, RegionalDefinition]) -> set[SecretValue]:
    """Every secret value the definitions (fresh from derivation) carry in memory."""
    found = set()
    for definition in definitions.values():
        for name, item in definition.spec.env.items():
            if isinstance(item, SecretEnv) and item.value is not None:
                found.add(SecretValue(definition.service, definition.environment, name, item.value))
    return found


def rekeyed(definitions: Mapping[str, RegionalDefinition], digest: Digester) -> dict[str, RegionalDefinition]:
    """The definitions with every secret value digested by ``digest`` instead.

    ``plan --remote`` derives with a local key, then rekeys with the control plane's
    digests of the same values, so they compare with what the control plane stored.
    Only ``spec.env`` is copied: the frozen parts stay shared, as a plan wants them.
    """
    result = {}
    for region, definition in definitions.items():
        env: dict[str, str | SecretEnv] = {}
        for name, item in definition.spec.env.items():
            if isinstance(item, SecretEnv) and item.value is not None:
                secret = SecretValue(definition.service, definition.environment, name, item.value)
                env[name] = SecretEnv.of(item.value, digest(secret))
            else:
                env[name] = item
        spec = definition.spec.model_copy(update={"env": env})
        result[region] = definition.model_copy(update={"spec": spec})
    return result
