"""The API of edge PoPs: each PoP's load-balancing config, the status it reports, and the
global view of every PoP's pools.

Included by :func:`taxiway.server.app.create_app`. ``GET .../config`` is what an edge
long-polls (:mod:`taxiway.server.long_poll`) for the config :mod:`taxiway.server.glb`
derives from the store; ``PUT .../status`` is how it sees each pool; ``GET /v1/glb``
reads those reports back, filtered to the services the token may read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field, field_validator

from taxiway.errors import NotFound
from taxiway.server import auth, glb, guard, long_poll, platform_files, problems, report_filter
from taxiway.server.body import Body
from taxiway.store import protocol
from taxiway.wire import pop_config as pop_config_wire
from taxiway.wire import pop_status


class PopReport(Body):
    services: list[dict[str, Any]] = Field(description="Per service: its pools as the PoP sees them.")
    haproxy: dict[str, Any] | None = None
    edge_metrics: str | None = Field(
        default=None, max_length=2048, description="The edge process's own /metrics URL."
    )

    @field_validator("services")
    @classmethod
    def _named(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, entry in enumerate(value):
            name = entry.get("service")
            if not isinstance(name, str) or not 1 <= len(name) <= 63:
                raise ValueError(f"services[{i}].service: expected a service name of at most 63 characters")
        return value


def router(
    store: protocol.Store,
    files: platform_files.LivePlatform,
    changes: long_poll.Changes,
    drops: report_filter.DropWarnings,
) -> APIRouter:
    """The routes over ``store``; ``changes`` holds the configs' long polls, ``drops``
    warns of reports on services the inventory does not name."""
    routes = APIRouter()

    def pops() -> set[str]:
        return {pop.name for pop in files.topology.pops}

    @routes.get("/v1/pops/{pop}/config", responses=problems.responses(403, 404))
    async def pop_config(
        pop: str,
        token: auth.Principal,
        after: Annotated[int | None, Query(ge=0, le=guard.MAX_INTEGER)] = None,
        wait: Annotated[float, Query(ge=0, le=long_poll.MAX_WAIT_SECONDS)] = 0.0,
    ) -> pop_config_wire.PopConfig:
        """The PoP's load-balancing config; with ``after`` and ``wait``, a long poll."""
        auth.require_pop(token, pop)
        if pop not in pops():
            raise NotFound(f"no PoP {pop!r} in the topology")

        def definition_of(service: str, number: int, region: str) -> dict[str, Any] | None:
            try:
                found = store.revision(service, number).definitions.get(glb.ENVIRONMENT, {}).get(region)
            except NotFound:
                return None
            return found if isinstance(found, dict) else None

        def build() -> pop_config_wire.PopConfig:
            config = glb.pop_config(
                pop, store.published(glb.ENVIRONMENT), store.heartbeats(), store.statuses(), definition_of
            )
            return pop_config_wire.PopConfig.model_validate(config)

        # Ingress addresses arrive with status reports, which do not notify: the poll re-reads.
        return await long_poll.poll(
            build, lambda config: after is None or config.version != after, wait, changes
        )

    @routes.put(
        "/v1/pops/{pop}/status", status_code=204, responses=problems.responses(403, 404, 409, *problems.BODY)
    )
    def report_pop(pop: str, report: PopReport, token: auth.Principal) -> None:
        auth.require_pop(token, pop)
        if pop not in pops():
            raise NotFound(f"no PoP {problems.quoted(pop)} in the topology")
        known = store.known_services(str(s["service"]) for s in report.services)
        kept, dropped = report_filter.keep_known(report.services, lambda s: str(s["service"]), known)
        drops.note(f"the edge of PoP {pop}", dropped)
        store.report_pop(pop, {**report.model_dump(), "services": kept})

    @routes.get("/v1/glb", responses=problems.responses(403))
    def glb_status(token: auth.Principal, service: str | None = None) -> list[pop_status.PopEntry]:
        """Every PoP's latest report, filtered to the services the token may read."""
        if service is not None:
            auth.require_service(token, service)
        answer = []
        for status in store.pop_statuses():
            services = [
                s
                for s in status.report.get("services", [])
                if isinstance(s, dict)
                and (service is None or s.get("service") == service)
                and auth.can_read_service(token, str(s.get("service")))
            ]
            answer.append(
                pop_status.PopEntry.model_validate(
                    {
                        "pop": status.pop,
                        "reported_at": status.reported_at.isoformat(),
                        "haproxy": status.report.get("haproxy"),
                        "edge_metrics": status.report.get("edge_metrics"),
                        "services": services,
                    }
                )
            )
        return answer

    return routes
