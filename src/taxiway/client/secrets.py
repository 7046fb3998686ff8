"""A service's platform secrets on the control plane: set, list and unset (``taxiway secrets``).

Values go out once, in a request body, and never come back: every answer is a
:class:`Secret` with its version, keyed digest, who set it and when. :func:`digests` asks
the control plane to key values the client holds (``plan --remote``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from taxiway.client import regions
from taxiway.client.http import ControlPlane
from taxiway.errors import ProtocolError
from taxiway.plan.secret_digest import SecretValue


@dataclass(frozen=True)
class Secret:
    service: str
    environment: str
    name: str
    version: int
    digest: str | None
    set_by: str
    set_at: datetime.datetime
    regions: tuple[str, ...] = ()
    """Regions whose definitions a set or unset changed (their instances roll)."""

    @classmethod
    def from_json(cls, item: Any, what: str) -> Secret:
        try:
            return cls(
                service=str(item["service"]),
                environment=str(item["environment"]),
                name=str(item["name"]),
                version=int(item["version"]),
                digest=None if item.get("digest") is None else str(item["digest"]),
                set_by=str(item["set_by"]),
                set_at=_time(item["set_at"]),
                regions=tuple(str(r) for r in item.get("regions") or ()),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"{what} answered a secret this client does not understand") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "environment": self.environment,
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat(),
        }


def _time(value: Any) -> datetime.datetime:
    parsed = regions.parse_time(value)
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed


def _path(service: str, environment: str, name: str) -> str:
    return f"/v1/services/{quote(service)}/environments/{quote(environment)}/secrets/{quote(name)}"


def set_value(cp: ControlPlane, service: str, environment: str, name: str, value: str) -> Secret:
    path = _path(service, environment, name)
    return Secret.from_json(cp.put(path, {"value": value}), f"PUT {path}")


def unset(cp: ControlPlane, service: str, environment: str, name: str) -> Secret:
    path = _path(service, environment, name)
    return Secret.from_json(cp.request("DELETE", path).json(), f"DELETE {path}")


def listed(cp: ControlPlane, service: str, environment: str | None = None) -> list[Secret]:
    path = f"/v1/services/{quote(service)}/secrets"
    answer = cp.get(path, environment=environment)
    if not isinstance(answer, list):
        raise ProtocolError(f"GET {path} answered no list")
    return [Secret.from_json(item, f"GET {path}") for item in answer]


def digests(cp: ControlPlane, values: set[SecretValue]) -> dict[SecretValue, str]:
    """The control plane's keyed digest of each value (nothing is stored), one request per
    service and environment."""
    groups: dict[tuple[str, str], list[SecretValue]] = {}
    for secret in sorted(values, key=lambda s: (s.service, s.environment, s.name, s.value)):
        groups.setdefault((secret.service, secret.environment), []).append(secret)
    found: dict[SecretValue, str] = {}
    for (service, environment), items in groups.items():
        path = f"/v1/services/{quote(service)}/environments/{quote(environment)}/secret-digests"
        answer = cp.post(path, {"values": [{"name": s.name, "value": s.value} for s in items]})
        listed = answer.get("digests") if isinstance(answer, dict) else None
        if not isinstance(listed, list) or len(listed) != len(items):
            raise ProtocolError(f"POST {path} answered no digest for each value")
        found.update(zip(items, map(str, listed), strict=True))
    return found
