"""Bearer-token authentication and scopes, checked on every API call.

Scopes (DESIGN principle 6): ``admin`` may do anything; ``owner`` may read, deploy and
roll back only the services named in its token; ``satellite`` may read only its own
region's definitions and write only its own region's status; ``edge`` may read only its
own PoP's load-balancing config and write only its PoP's status; ``alerts`` (Alertmanager's
webhook) may only post alerts; ``metrics`` may read only the control plane's own metrics
(``GET /metrics``, for Prometheus).

The token travels as ``Authorization: Bearer <token>``; :data:`BEARER` reads the header,
which is also how the API document declares the scheme on every route that needs it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taxiway.server import guard
from taxiway.server.problems import Forbidden, Unauthorized
from taxiway.store import protocol, records

BEARER = HTTPBearer(
    scheme_name="bearer",
    description=(
        "A Taxiway token (admin, owner, satellite, edge, alerts or metrics): `Authorization: Bearer <token>`."
    ),
    auto_error=False,  # a missing token is answered as a problem, below
)


def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> records.Token:
    checked = getattr(request.state, guard.TOKEN_STATE, None)
    if isinstance(checked, records.Token):
        return checked  # the guard looked it up before reading the body
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    store: protocol.Store = request.app.state.store
    token = store.authenticate(credentials.credentials.strip())
    if token is None:
        raise Unauthorized("the token is unknown or revoked")
    return token


Principal = Annotated[records.Token, Depends(authenticate)]
"""The caller of a route: its token, authenticated (a route's ``token: auth.Principal``)."""


def actor(token: records.Token) -> str:
    return f"{token.scope}:{token.name}"


def require_admin(token: records.Token) -> None:
    if token.scope != "admin":
        raise Forbidden("this needs an admin token")


def require_service(token: records.Token, service: str) -> None:
    if token.scope == "admin":
        return
    if token.scope == "owner" and service in token.services:
        return
    raise Forbidden(f"this token may not act on service {service!r}")


def require_region(token: records.Token, region: str) -> None:
    if token.scope == "admin":
        return
    if token.scope == "satellite" and token.region == region:
        return
    raise Forbidden(f"this token may not act for region {region!r}")


def require_pop(token: records.Token, pop: str) -> None:
    if token.scope == "admin":
        return
    if token.scope == "edge" and token.region == pop:
        return
    raise Forbidden(f"this token may not act for PoP {pop!r}")


def require_alerts(token: records.Token) -> None:
    if token.scope in ("admin", "alerts"):
        return
    raise Forbidden("this needs an alerts token (`taxiway tokens create NAME --scope alerts`)")


def require_metrics(token: records.Token) -> None:
    if token.scope not in ("admin", "metrics"):
        raise Forbidden("this needs a metrics token (`taxiway tokens create NAME --scope metrics`)")


def can_read_service(token: records.Token, service: str) -> bool:
    return token.scope == "admin" or (token.scope == "owner" and service in token.services)
