"""The regional definition: what one region must run for one service in one environment.

Derived from a manifest (defaults filled, overrides applied, platform variables injected);
it is what satellites receive and what plans compare. Secret environment values are kept
only in memory: every serialisation carries a digest in their place, so renderings, plans
and state files never hold a secret in plain text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taxiway.spec.manifest import DnsLabel, Metadata, Model, RegionName, Spec


class SecretEnv(Model):
    """An env value marked secret: serialised as its digest, never its value."""

    secret: Literal[True] = True
    digest: str = Field(
        pattern=r"^(hmac-sha256|local-hmac-sha256|sha256):[0-9a-f]{64}$",
        description="A keyed digest (HMAC) of the value, its service, environment and name "
        "(docs/secrets.md); bare sha256 only in revisions stored before keyed digests.",
    )
    value: str | None = Field(default=None, exclude=True, repr=False)

    @classmethod
    def of(cls, value: str, digest: str) -> SecretEnv:
        """``value`` in memory, ``digest`` (see :mod:`taxiway.plan.secret_digest`) on the wire."""
        return cls(digest=digest, value=value)


class RegionalSpec(Spec):
    """A spec as one region runs it: overrides applied, env fully resolved."""

    env: dict[str, str | SecretEnv] = Field(  # type: ignore[assignment]
        default_factory=dict, description="Resolved environment, platform variables included."
    )


class RegionalDefinition(Model):
    api_version: Literal["taxiway/v1"] = Field(default="taxiway/v1", alias="apiVersion")
    kind: Literal["RegionalDefinition"] = "RegionalDefinition"
    service: DnsLabel
    environment: Literal["staging", "production"]
    region: RegionName
    revision: int | None = Field(default=None, ge=1, description="Set once stored by the control plane.")
    metadata: Metadata
    spec: RegionalSpec

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.service, self.environment, self.region)
