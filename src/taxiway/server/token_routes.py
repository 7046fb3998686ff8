"""The API of tokens: create, list and revoke them (admin only; ``taxiway tokens``), and
``GET /v1/whoami``, which any token answers of itself.

Included by :func:`taxiway.server.app.create_app`. A token grants exactly what its
scope says (:mod:`taxiway.server.auth`), so what it names is checked against the
platform as it is now, and a request that names anything else is refused whole with a
422 ``validation-failed`` whose problems name the field and what was expected:

- ``owner``: at least one service, each in the inventory; no ``region``, no ``pop``;
- ``satellite``: a ``region`` of the topology; no ``services``, no ``pop``;
- ``edge``: a ``pop`` of the topology; no ``services``, no ``region``;
- ``alerts`` (Alertmanager's webhook, ``POST /v1/alerts`` only) and ``admin``: none of them.

The bearer string is in the answer to ``POST`` and nowhere else: the store keeps the
SHA-256 of its secret, and listing answers neither. ``DELETE /v1/tokens/{id}`` revokes at
once: the store reads the token on every request (nothing caches it), so the next
request with it is a 401.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from taxiway.errors import ValidationFailed
from taxiway.server import auth, platform_files
from taxiway.server.problems import BODY, responses
from taxiway.spec.problem import REQUEST, Problem
from taxiway.store import protocol, records

TOKEN_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@:-]*$"
"""A token's name shows in the audit log as ``scope:name``: no spaces or control characters."""
MAX_SERVICES = 1000
TAGS: list[str | Enum] = ["tokens"]
"""The tokens' routes (not ``whoami``, which any token may call of itself)."""
TokenId = Annotated[str, Path(max_length=32, description="The token's id (`taxiway tokens list`).")]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=128, pattern=TOKEN_NAME, description="Who uses it (audit log)."
    )
    scope: records.Scope
    services: list[Annotated[str, Field(max_length=63)]] = Field(
        default_factory=list, max_length=MAX_SERVICES, description="The services of an owner token."
    )
    region: str | None = Field(default=None, max_length=63, description="The region of a satellite token.")
    pop: str | None = Field(default=None, max_length=63, description="The PoP of an edge token.")


def _listing(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (and {len(names) - limit} more)" if len(names) > limit else "") if names else "none"


def problems_of(
    request: TokenRequest, services: set[str], regions: list[str], pops: list[str]
) -> list[Problem]:
    """What is wrong with ``request`` given the inventory's ``services`` and the topology's
    ``regions`` and ``pops`` (empty: nothing)."""
    found: list[Problem] = []
    scope = request.scope

    def stray(field: str, value: object, needs: str) -> None:
        found.append(Problem(REQUEST, (field,), f"a {scope} token takes no {field}", repr(value), needs))

    if scope == "owner":
        if not request.services:
            found.append(
                Problem(
                    REQUEST,
                    ("services",),
                    "an owner token needs the services it may deploy",
                    "none",
                    "at least one service of the inventory",
                )
            )
        for i, name in enumerate(request.services):
            if name not in services:
                found.append(
                    Problem(
                        REQUEST,
                        ("services", i),
                        f"no service named {name!r} in the inventory",
                        repr(name),
                        f"a service of the inventory: {_listing(sorted(services))}",
                        f"register it first: `taxiway services create {name} --owner TEAM --regions R1,R2`",
                    )
                )
    elif request.services:
        stray("services", request.services, "services only on an owner token")
    for field, holder, value, known, noun, needs in (
        ("region", "satellite", request.region, regions, "region", "a satellite token needs its region"),
        ("pop", "edge", request.pop, pops, "PoP", "an edge token needs its PoP"),
    ):
        expected = f"a {noun} of the topology: {_listing(known)}"
        if scope != holder:
            if value is not None:
                stray(field, value, f"a {noun} only on {'an' if holder == 'edge' else 'a'} {holder} token")
        elif value is None:
            found.append(Problem(REQUEST, (field,), needs, "none", expected))
        elif value not in known:
            found.append(
                Problem(REQUEST, (field,), f"no {noun} {value!r} in the topology", repr(value), expected)
            )
    return found


class TokenInfo(BaseModel):
    """What an answer says of a token: never its secret nor the secret's hash."""

    id: str
    name: str
    scope: str
    services: list[str]
    region: str | None
    """The region of a satellite token."""
    pop: str | None
    """The PoP of an edge token."""
    created_at: str
    created_by: str | None
    revoked_at: str | None


class NewToken(TokenInfo):
    """A token just issued, with its bearer string: in this answer only."""

    token: str


class Whoami(BaseModel):
    """Who the bearer of the request's token is."""

    name: str
    scope: str
    services: list[str]
    region: str | None


def token_json(issued: records.IssuedToken) -> dict[str, Any]:
    """What an answer says of a token: never its secret nor the secret's hash."""
    return {
        "id": issued.id,
        "name": issued.name,
        "scope": issued.scope,
        "services": list(issued.services),
        "region": issued.bound if issued.scope == "satellite" else None,
        "pop": issued.bound if issued.scope == "edge" else None,
        "created_at": issued.created_at.isoformat(),
        "created_by": issued.created_by,
        "revoked_at": issued.revoked_at.isoformat() if issued.revoked_at else None,
    }


def router(store: protocol.Store, files: platform_files.LivePlatform) -> APIRouter:
    routes = APIRouter()

    @routes.get("/v1/whoami")
    def whoami(token: auth.Principal) -> Whoami:
        return Whoami(name=token.name, scope=token.scope, services=list(token.services), region=token.region)

    @routes.post("/v1/tokens", status_code=201, responses=responses(403, 409, *BODY), tags=TAGS)
    async def create_token(request: TokenRequest, token: auth.Principal) -> NewToken:
        """A new token; its bearer string (``token``) is in this answer only."""
        auth.require_admin(token)
        services = {s.name for s in await run_in_threadpool(store.services)}
        topology = files.topology
        problems = problems_of(request, services, list(topology.regions), [p.name for p in topology.pops])
        if problems:
            raise ValidationFailed(problems)
        bound = request.pop if request.scope == "edge" else request.region
        issued, bearer = await run_in_threadpool(
            store.issue_token, request.name, request.scope, auth.actor(token), request.services, bound
        )
        return NewToken(**token_json(issued), token=bearer)

    @routes.get("/v1/tokens", responses=responses(403), tags=TAGS)
    def list_tokens(token: auth.Principal) -> list[TokenInfo]:
        """Every token, revoked ones included, oldest first."""
        auth.require_admin(token)
        return [TokenInfo(**token_json(t)) for t in store.tokens()]

    @routes.delete("/v1/tokens/{token_id}", responses=responses(403, 404, 409), tags=TAGS)
    def revoke_token(token_id: TokenId, token: auth.Principal) -> TokenInfo:
        """Revoke a token: the next request with it is refused (401)."""
        auth.require_admin(token)
        return TokenInfo(**token_json(store.revoke_token(token_id, auth.actor(token))))

    return routes
