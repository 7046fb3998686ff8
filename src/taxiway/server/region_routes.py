"""The API of regions: the topology's regions and nodes, each region's definitions feed,
and the status its satellite reports.

Included by :func:`taxiway.server.app.create_app`. ``GET .../definitions`` is the feed a
satellite long-polls (:mod:`taxiway.server.long_poll`): the definitions changed after its
cursor, secret values revealed to that region's own satellite only. ``PUT .../status``
is its heartbeat and its services' status; ``GET /v1/status`` reads the latter back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator

from taxiway.errors import NotFound
from taxiway.sealing.definitions import shown, unseal_values
from taxiway.sealing.keys import Sealer
from taxiway.server import auth, guard, long_poll, platform_files, problems, report_filter
from taxiway.server.body import Body
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.store import protocol, records
from taxiway.wire import feed, region_status, regions


class NodeChange(Body):
    state: Literal["failed", "ready"]


class NodeState(BaseModel):
    """A node's state as changed, and the seq its region's satellites see the change at."""

    region: str
    datacenter: str
    node: str
    state: Literal["failed", "ready"]
    seq: int


class StatusReport(Body):
    service: str = Field(min_length=1, max_length=63, description="A service of the inventory.")
    environment: str = Field(max_length=32, description=f"One of {', '.join(ENVIRONMENTS)}.")
    report: dict[str, Any]

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        if value not in ENVIRONMENTS:
            raise ValueError(f"expected one of {', '.join(ENVIRONMENTS)}")
        return value


class StatusBatch(Body):
    cursor: int = Field(
        ge=0, le=guard.MAX_INTEGER, description="The definitions cursor the satellite has applied."
    )
    api: str | None = Field(
        default=None, max_length=256, pattern=r"^https?://", description="The satellite's own API (logs)."
    )
    ingress: str | None = Field(
        default=None, max_length=256, pattern=r"^https?://", description="The region's ingress HAProxy."
    )
    reports: list[StatusReport]


def router(
    store: protocol.Store,
    sealer: Sealer,
    files: platform_files.LivePlatform,
    changes: long_poll.Changes,
    drops: report_filter.DropWarnings,
) -> APIRouter:
    """The routes over ``store``; ``changes`` wakes and holds the feeds' long polls,
    ``drops`` warns of reports on services the inventory does not name."""
    routes = APIRouter()

    @routes.get("/v1/regions")
    def list_regions(token: auth.Principal) -> list[regions.RegionEntry]:
        seen = store.heartbeats()
        answer = []
        for r in store.regions():
            beat = seen.get(r.name)
            answer.append(
                regions.RegionEntry(
                    name=r.name,
                    continent=r.continent,
                    driver=r.driver,
                    last_seen=beat.seen_at.isoformat() if beat else None,
                    cursor=beat.cursor if beat else None,
                    api=beat.api if beat else None,
                    ingress=beat.ingress if beat else None,
                    failed_nodes=[list(n) for n in store.definitions_since(r.name, 0).failed_nodes],
                )
            )
        return answer

    @routes.put(
        "/v1/regions/{region}/nodes/{datacenter}/{node}",
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    async def set_node(
        region: str, datacenter: str, node: str, change: NodeChange, token: auth.Principal
    ) -> NodeState:
        auth.require_admin(token)
        found = files.topology.regions.get(region)
        if found is None:
            raise NotFound(f"no region {region!r} in the topology")
        nodes = {(d.name, n.name) for d in found.datacenters for n in d.nodes}
        if (datacenter, node) not in nodes:
            known = ", ".join(f"{d}/{n}" for d, n in sorted(nodes))
            raise NotFound(f"region {region} has no node {datacenter}/{node}; nodes: {known}")
        seq = await run_in_threadpool(
            store.set_node_state, region, datacenter, node, change.state, auth.actor(token)
        )
        await changes.notify()
        return NodeState(region=region, datacenter=datacenter, node=node, state=change.state, seq=seq)

    @routes.get("/v1/regions/{region}/definitions", responses=problems.responses(403, 404))
    async def region_definitions(
        region: str,
        token: auth.Principal,
        after: Annotated[int, Query(ge=0, le=guard.MAX_INTEGER)] = 0,
        wait: Annotated[float, Query(ge=0, le=long_poll.MAX_WAIT_SECONDS)] = 0.0,
    ) -> feed.Batch:
        """Definitions changed after cursor ``after``; with ``wait``, a long poll."""
        auth.require_region(token, region)
        if region not in files.topology.regions:
            raise NotFound(f"no region {region!r} in the topology")

        # Only the region's own satellite gets secret values (it must run the instances);
        # an admin reading the feed sees digests, like everyone else.
        def reveal(definition: dict[str, Any]) -> dict[str, Any]:
            if token.scope == "satellite":
                return unseal_values(definition, sealer)
            return shown(definition, sealer)

        found = await long_poll.poll(
            lambda: store.definitions_since(region, after),
            lambda found: bool(found.items or found.nodes_changed),
            wait,
            changes,
        )
        return feed.Batch(
            region=region,
            cursor=found.cursor,
            failed_nodes=frozenset(found.failed_nodes),
            items=tuple(
                feed.Item(
                    service=p.service,
                    environment=p.environment,
                    revision=p.revision,
                    artifact=p.artifact,
                    definition=None if p.definition is None else reveal(p.definition),
                    seq=p.seq,
                )
                for p in found.items
            ),
        )

    @routes.put(
        "/v1/regions/{region}/status",
        status_code=204,
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    def report_status(region: str, batch: StatusBatch, token: auth.Principal) -> None:
        auth.require_region(token, region)
        if region not in files.topology.regions:
            raise NotFound(f"no region {problems.quoted(region)} in the topology")
        # Reports on services the inventory does not name are dropped, not refused: see
        # report_filter (a service just removed must not freeze its region's status).
        known = store.known_services(r.service for r in batch.reports)
        kept, dropped = report_filter.keep_known(batch.reports, lambda r: r.service, known)
        drops.note(f"the satellite of region {region}", dropped)
        store.report_status(
            region,
            [records.Status(r.service, r.environment, r.report) for r in kept],
            batch.cursor,
            batch.api,
            batch.ingress,
        )

    @routes.get("/v1/status", responses=problems.responses(403))
    def get_status(token: auth.Principal, service: str | None = None) -> list[region_status.StatusEntry]:
        if service is not None:
            auth.require_service(token, service)
        return [
            region_status.StatusEntry(
                service=s.service,
                environment=s.environment,
                region=s.region,
                report=region_status.Report.model_validate(s.report),
                reported_at=s.reported_at.isoformat() if s.reported_at else None,
            )
            for s in store.statuses(service)
            if auth.can_read_service(token, s.service)
        ]

    return routes
