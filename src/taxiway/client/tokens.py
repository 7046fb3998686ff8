"""The control plane's tokens: create, list and revoke them (``taxiway tokens``, admin).

A token's bearer string is in :func:`create`'s answer only; every other answer is a
:class:`Token` with its scope, what it names, who created it and when, and whether it
is revoked: never its secret.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from taxiway.client import regions
from taxiway.client.http import ControlPlane
from taxiway.errors import ProtocolError


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    scope: str
    services: tuple[str, ...]
    region: str | None
    pop: str | None
    created_at: datetime.datetime
    created_by: str | None
    revoked_at: datetime.datetime | None

    @classmethod
    def from_json(cls, item: Any, what: str) -> Token:
        try:
            return cls(
                id=str(item["id"]),
                name=str(item["name"]),
                scope=str(item["scope"]),
                services=tuple(str(s) for s in item.get("services") or ()),
                region=None if item.get("region") is None else str(item["region"]),
                pop=None if item.get("pop") is None else str(item["pop"]),
                created_at=_time(item["created_at"]),
                created_by=None if item.get("created_by") is None else str(item["created_by"]),
                revoked_at=None if item.get("revoked_at") is None else _time(item["revoked_at"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"{what} answered a token this client does not understand") from exc

    @property
    def grants(self) -> str:
        """What the token names: its services, its region or its PoP; ``-`` for admin."""
        if self.scope == "owner":
            return ",".join(self.services)
        return self.region or self.pop or "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "services": list(self.services),
            "region": self.region,
            "pop": self.pop,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True)
class Created:
    """A new token and its bearer string, which the control plane never shows again."""

    token: Token
    bearer: str = field(repr=False)


def _time(value: Any) -> datetime.datetime:
    parsed = regions.parse_time(value)
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed


def create(
    cp: ControlPlane,
    name: str,
    scope: str,
    services: Sequence[str] = (),
    region: str | None = None,
    pop: str | None = None,
) -> Created:
    body: dict[str, Any] = {"name": name, "scope": scope}
    if services:
        body["services"] = list(services)
    if region is not None:
        body["region"] = region
    if pop is not None:
        body["pop"] = pop
    answer = cp.post("/v1/tokens", body)
    bearer = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(bearer, str) or not bearer:
        raise ProtocolError("POST /v1/tokens answered no token")
    return Created(Token.from_json(answer, "POST /v1/tokens"), bearer)


def listed(cp: ControlPlane) -> list[Token]:
    answer = cp.get("/v1/tokens")
    if not isinstance(answer, list):
        raise ProtocolError("GET /v1/tokens answered no list")
    return [Token.from_json(item, "GET /v1/tokens") for item in answer]


def revoke(cp: ControlPlane, token_id: str) -> Token:
    path = f"/v1/tokens/{quote(token_id, safe='')}"
    return Token.from_json(cp.request("DELETE", path).json(), f"DELETE {path}")
