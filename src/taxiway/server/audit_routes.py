"""The API of the audit log: the changes the control plane made, newest first (admin only).

Included by :func:`taxiway.server.app.create_app`. The store writes an audit row in the
transaction of each change it makes; this route only reads them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from taxiway.server import auth, problems
from taxiway.store import protocol


class AuditEntry(BaseModel):
    """One change the control plane made: who, what, on what, and its details."""

    id: int
    at: str
    """When (ISO 8601, UTC)."""
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def router(store: protocol.Store) -> APIRouter:
    routes = APIRouter()

    @routes.get("/v1/audit", responses=problems.responses(403))
    def get_audit(
        token: auth.Principal, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[AuditEntry]:
        auth.require_admin(token)
        return [
            AuditEntry(
                id=e.id,
                at=e.at.isoformat(),
                actor=e.actor,
                action=e.action,
                target=e.target,
                detail=e.detail,
            )
            for e in store.audit_log(limit)
        ]

    return routes
