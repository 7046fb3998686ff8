"""What became of each revision in each environment, and where a rollback goes: the API.

Included by :func:`taxiway.server.app.create_app`. The outcomes are recorded by the store
as deploys and status reports arrive (:mod:`taxiway.store.outcome_rows`); these routes
only read them. ``GET .../rollback-target`` answers the revision ``taxiway rollback`` would
return to (or refuses, as problem+json, one that never became ready there) without
changing anything: the rollback itself is the usual guarded ``PUT`` of the environment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from taxiway.errors import NotFound
from taxiway.plan import outcomes
from taxiway.server import auth, guard, problems
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.store import protocol


class RegionVerdict(BaseModel):
    """What became of a revision in one region: ``waiting`` until it reports."""

    state: str
    message: str
    ready_at: str | None


class Outcome(BaseModel):
    """What became of one revision in one environment, region by region."""

    revision: int
    environment: str
    state: str
    current: bool
    summary: str
    became_ready: bool
    ready_at: str | None
    deployed_at: str
    deployed_by: str
    left_at: str | None
    left_for: int | None
    regions: dict[str, RegionVerdict]


class Skipped(BaseModel):
    """A newer revision a rollback passes over, and why."""

    revision: int
    state: str
    summary: str


class RollbackTarget(BaseModel):
    """The revision a rollback of an environment returns to from ``current``, and why."""

    current: int
    revision: int
    reason: str
    skipped: list[Skipped]


def router(store: protocol.Store) -> APIRouter:
    routes = APIRouter()

    @routes.get("/v1/services/{service}/outcomes", responses=problems.responses(403, 404))
    def list_outcomes(service: str, token: auth.Principal) -> list[Outcome]:
        """Each revision's outcome in each environment it was deployed to, newest first."""
        auth.require_service(token, service)
        store.service(service)
        found = store.outcomes(service)
        return [
            Outcome.model_validate(o.to_json())
            for o in sorted(found, key=lambda o: (-o.revision, o.environment))
        ]

    @routes.get(
        "/v1/services/{service}/environments/{environment}/rollback-target",
        responses=problems.responses(400, 403, 404),
    )
    async def rollback_target(
        service: str,
        environment: str,
        token: auth.Principal,
        to: Annotated[int | None, Query(ge=1, le=guard.MAX_INTEGER)] = None,
        force: bool = False,
    ) -> RollbackTarget:
        """The revision a rollback of ``environment`` returns to; nothing is changed."""
        auth.require_service(token, service)
        if environment not in ENVIRONMENTS:
            raise NotFound(f"no environment {environment!r}; environments: {', '.join(ENVIRONMENTS)}")

        def choose() -> RollbackTarget:
            store.service(service)
            now = store.desired(service, environment)
            if now is None:
                raise NotFound(
                    f"{service} was never deployed to {environment}; there is nothing to roll back"
                )
            known = [r.number for r in store.revisions(service)]
            choice = outcomes.rollback_target(
                store.outcomes(service), environment, now.revision, to=to, force=force, known=known
            )
            return RollbackTarget.model_validate({"current": now.revision, **choice.to_json()})

        return await run_in_threadpool(choose)

    return routes
