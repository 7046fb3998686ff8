"""The control plane's API: routes over the store, each authenticated and scoped.

``create_app`` takes everything it needs (store, topology, inventory) as arguments; the
process entry point (``taxiway server``) builds those from typed settings. The OpenAPI
document is served at ``/openapi.json``; there are no ``/docs`` pages (they need a CDN).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from taxiway import __version__
from taxiway.errors import InvalidInput, NotFound, TaxiwayError, UnknownService
from taxiway.plan import retention
from taxiway.sealing.definitions import seal_values, shown, unseal_values
from taxiway.sealing.keys import Sealer
from taxiway.server import (
    auth,
    glb,
    guard,
    inventory_routes,
    openapi,
    outcome_routes,
    platform_files,
    problems,
    report_filter,
    secret_routes,
    text,
    token_routes,
    uploads,
)
from taxiway.spec.inventory import Inventory
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.spec.topology import Topology
from taxiway.store import records
from taxiway.store.sql import SqlStore

# How long a satellite's long poll waits for a change before answering "nothing new".
MAX_WAIT_SECONDS = 30.0
# Other control-plane processes may write to a shared PostgreSQL: re-read this often.
POLL_SECONDS = 1.0

Principal = Annotated[records.Token, Depends(auth.authenticate)]
log = logging.getLogger(__name__)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The service's files travel with a revision; larger services belong in an image registry.
MAX_ARTIFACT_BYTES = guard.MAX_ARTIFACT_BYTES


class ArtifactUpload(Body):
    format: Literal["tar.gz"] = "tar.gz"
    data: str = Field(description="The tar.gz, base64.", max_length=(MAX_ARTIFACT_BYTES * 4) // 3 + 8)


class RevisionUpload(Body):
    files: dict[str, str] = Field(description="The .taxiway/ directory: file name -> YAML text.")
    artifact: ArtifactUpload | None = Field(default=None, description="The service's files (tar.gz).")


class NodeChange(Body):
    state: Literal["failed", "ready"]


class DesiredChange(Body):
    revision: int = Field(ge=1, le=guard.MAX_INTEGER)
    expected_version: int = Field(
        ge=0, le=guard.MAX_INTEGER, description="The version read before; 0 if none existed."
    )


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


class PopReport(Body):
    services: list[dict[str, Any]] = Field(description="Per service: its pools as the PoP sees them.")
    haproxy: dict[str, Any] | None = None

    @field_validator("services")
    @classmethod
    def _named(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for i, entry in enumerate(value):
            name = entry.get("service")
            if not isinstance(name, str) or not 1 <= len(name) <= 63:
                raise ValueError(f"services[{i}].service: expected a service name of at most 63 characters")
        return value


class ArtifactResponse(Response):
    media_type = "application/gzip"


BINARY = {"schema": {"type": "string", "format": "binary"}}


class Changes:
    """Wakes long-polling satellites as soon as this process publishes a change."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self.waiting = 0
        """How many long polls wait right now (observability, and tests wait on it)."""

    async def notify(self) -> None:
        async with self._condition:
            self._condition.notify_all()

    async def wait(self, timeout: float) -> None:
        async with self._condition:
            self.waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._condition.wait(), timeout)
            finally:
                self.waiting -= 1


def _desired_json(d: records.Desired) -> dict[str, Any]:
    return {
        "service": d.service,
        "environment": d.environment,
        "revision": d.revision,
        "version": d.version,
        "updated_by": d.updated_by,
        "updated_at": d.updated_at.isoformat(),
    }


def _shown(name: str) -> str:
    """A name from a request path, quoted and cut short for a message."""
    return repr(name if len(name) <= 64 else name[:64] + "...")


def _artifact_bytes(upload: ArtifactUpload) -> bytes:
    try:
        data = base64.b64decode(upload.data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("artifact.data is not base64") from exc
    if len(data) > MAX_ARTIFACT_BYTES:
        raise InvalidInput(f"the artifact is {len(data)} bytes; at most {MAX_ARTIFACT_BYTES} are accepted")
    if not data.startswith(b"\x1f\x8b"):
        raise InvalidInput("the artifact is not gzip data (format tar.gz)")
    return data


def create_app(
    store: SqlStore,
    topology: Topology,
    inventory: Inventory,
    sealer: Sealer | None = None,
    files: platform_files.LivePlatform | None = None,
    policy: retention.Policy = retention.DEFAULT_POLICY,
) -> FastAPI:
    """The API over ``store``; ``sealer`` seals secret env values at rest (a throwaway key
    when none is given, for tests: secrets then do not survive a restart). ``files`` holds
    the platform's files as they are reloaded (fixed to ``topology`` and ``inventory``
    when none is given). ``policy`` bounds what each service stores."""
    sealer = sealer or Sealer.generate()
    files = files or platform_files.LivePlatform(topology, inventory)
    # No /docs nor /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN, a blank page
    # on a platform without internet access. /openapi.json is the API's description; any
    # OpenAPI viewer reads it.
    app = FastAPI(
        title="Taxiway control plane",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        responses=problems.EVERY_ROUTE,
        dependencies=[Depends(text.checked)],
    )
    openapi.install(app)
    app.state.store = store
    changes = Changes()
    app.state.changes = changes
    app.add_middleware(guard.Guard, store=store)
    app.add_exception_handler(TaxiwayError, problems.taxiway_error)
    app.add_exception_handler(RequestValidationError, problems.request_invalid)
    app.add_exception_handler(HTTPException, problems.http_error)
    app.add_exception_handler(Exception, problems.internal_error)
    app.include_router(secret_routes.router(store, sealer, changes.notify))
    drops = report_filter.DropWarnings(log)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/whoami")
    def whoami(token: Principal) -> dict[str, Any]:
        return {
            "name": token.name,
            "scope": token.scope,
            "services": list(token.services),
            "region": token.region,
        }

    @app.get("/v1/regions")
    def list_regions(token: Principal) -> list[dict[str, Any]]:
        seen = store.heartbeats()
        answer = []
        for r in store.regions():
            beat = seen.get(r.name)
            answer.append(
                {
                    "name": r.name,
                    "continent": r.continent,
                    "driver": r.driver,
                    "last_seen": beat.seen_at.isoformat() if beat else None,
                    "cursor": beat.cursor if beat else None,
                    "api": beat.api if beat else None,
                    "ingress": beat.ingress if beat else None,
                    "failed_nodes": [list(n) for n in store.definitions_since(r.name, 0).failed_nodes],
                }
            )
        return answer

    @app.put(
        "/v1/regions/{region}/nodes/{datacenter}/{node}",
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    async def set_node(
        region: str, datacenter: str, node: str, change: NodeChange, token: Principal
    ) -> dict[str, Any]:
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
        return {"region": region, "datacenter": datacenter, "node": node, "state": change.state, "seq": seq}

    @app.get("/v1/services")
    def list_services(token: Principal) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "version": s.version, **s.entry}
            for s in store.services()
            if auth.can_read_service(token, s.name)
        ]

    @app.get("/v1/services/{service}", responses=problems.responses(403, 404))
    def get_service(service: str, token: Principal) -> dict[str, Any]:
        auth.require_service(token, service)
        found = store.service(service)
        environments = {}
        for environment in ENVIRONMENTS:
            current = store.desired(service, environment)
            environments[environment] = _desired_json(current) if current else None
        return {
            "name": found.name,
            "version": found.version,
            "entry": found.entry,
            "environments": environments,
        }

    @app.get("/v1/services/{service}/revisions", responses=problems.responses(403, 404))
    def list_revisions(service: str, token: Principal) -> list[dict[str, Any]]:
        auth.require_service(token, service)
        store.service(service)
        return [
            {
                "number": r.number,
                "digest": r.digest,
                "created_by": r.created_by,
                "created_at": r.created_at.isoformat(),
                "environments": sorted(r.definitions),
                "artifact": r.artifact,
                "pruned_at": r.pruned_at.isoformat() if r.pruned_at else None,
            }
            for r in store.revisions(service)
        ]

    @app.get("/v1/services/{service}/storage", responses=problems.responses(403, 404))
    def service_storage(service: str, token: Principal) -> dict[str, Any]:
        """What the service keeps of its revisions and artifacts, why, and its bounds."""
        auth.require_service(token, service)
        decision = store.storage(service, policy)
        return {
            "service": service,
            "artifact_bytes": decision.stored_bytes,
            "quota_bytes": policy.quota_bytes,
            "keep_newest": policy.keep_newest,
            "kept": [{"revision": n, "why": why} for n, why in sorted(decision.kept.items())],
        }

    @app.post(
        "/v1/services/{service}/revisions",
        status_code=201,
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    def create_revision(
        service: str,
        upload: RevisionUpload,
        token: Principal,
        environment: Annotated[
            str | None, Query(description="Refuse (store nothing) if a secret is missing here.")
        ] = None,
    ) -> dict[str, Any]:
        auth.require_service(token, service)
        store.service(service)
        data = _artifact_bytes(upload.artifact) if upload.artifact else None
        artifact = "sha256:" + hashlib.sha256(data).hexdigest() if data is not None else None
        derived = uploads.derive_upload(
            upload.files, service, files.topology, files.inventory(store), sealer.keyer(), artifact
        )
        if environment is not None:
            store.check_secrets(service, environment, list(derived.definitions.get(environment, {}).values()))
        sealed = {
            environment: {region: seal_values(d, sealer) for region, d in by_region.items()}
            for environment, by_region in derived.definitions.items()
        }
        revision = store.create_revision(
            service, sealed, derived.digest, auth.actor(token), artifact_data=data, policy=policy
        )
        return {
            "service": service,
            "number": revision.number,
            "digest": revision.digest,
            "artifact": revision.artifact,
        }

    @app.get("/v1/services/{service}/revisions/{number}", responses=problems.responses(403, 404))
    def get_revision(
        service: str, number: Annotated[int, Path(ge=1, le=guard.MAX_INTEGER)], token: Principal
    ) -> dict[str, Any]:
        auth.require_service(token, service)
        r = store.revision(service, number)
        definitions = {
            environment: {region: shown(d, sealer) for region, d in by_region.items()}
            for environment, by_region in r.definitions.items()
        }
        return {
            "number": r.number,
            "digest": r.digest,
            "artifact": r.artifact,
            "created_by": r.created_by,
            "created_at": r.created_at.isoformat(),
            "pruned_at": r.pruned_at.isoformat() if r.pruned_at else None,
            "definitions": definitions,
        }

    @app.get(
        "/v1/artifacts/{digest}",
        response_class=ArtifactResponse,
        responses={
            200: {"description": "The artifact (tar.gz)", "content": {ArtifactResponse.media_type: BINARY}},
            **problems.responses(403, 404),
        },
    )
    def get_artifact(digest: str, token: Principal) -> Response:
        if token.scope == "satellite":
            region = token.region or ""
            if digest not in {p.artifact for p in store.definitions_since(region, 0).items}:
                raise problems.Forbidden(f"no definition of region {region!r} uses artifact {digest}")
        elif token.scope != "admin" and not (store.artifact_services(digest) & set(token.services)):
            raise problems.Forbidden(f"this token may not read artifact {digest}")
        return ArtifactResponse(store.artifact(digest))

    @app.get("/v1/services/{service}/environments/{environment}", responses=problems.responses(403, 404))
    def get_desired(service: str, environment: str, token: Principal) -> dict[str, Any]:
        auth.require_service(token, service)
        current = store.desired(service, environment)
        if current is None:
            raise NotFound(f"{service} has never been deployed to {environment}")
        return _desired_json(current)

    @app.put(
        "/v1/services/{service}/environments/{environment}",
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    async def set_desired(
        service: str, environment: str, change: DesiredChange, token: Principal
    ) -> dict[str, Any]:
        auth.require_service(token, service)
        if environment not in ENVIRONMENTS:
            raise NotFound(f"no environment {environment!r}; environments: {', '.join(ENVIRONMENTS)}")
        result = await run_in_threadpool(
            store.set_desired,
            service,
            environment,
            change.revision,
            change.expected_version,
            auth.actor(token),
        )
        await changes.notify()
        return _desired_json(result)

    @app.get("/v1/regions/{region}/definitions", responses=problems.responses(403, 404))
    async def region_definitions(
        region: str,
        token: Principal,
        after: Annotated[int, Query(ge=0, le=guard.MAX_INTEGER)] = 0,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 0.0,
    ) -> dict[str, Any]:
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

        deadline = asyncio.get_running_loop().time() + wait
        while True:
            found = await run_in_threadpool(store.definitions_since, region, after)
            remaining = deadline - asyncio.get_running_loop().time()
            if found.items or found.nodes_changed or remaining <= 0:
                break
            await changes.wait(min(remaining, POLL_SECONDS))
        return {
            "region": region,
            "cursor": found.cursor,
            "failed_nodes": [list(n) for n in found.failed_nodes],
            "items": [
                {
                    "service": p.service,
                    "environment": p.environment,
                    "revision": p.revision,
                    "artifact": p.artifact,
                    "definition": None if p.definition is None else reveal(p.definition),
                    "seq": p.seq,
                }
                for p in found.items
            ],
        }

    @app.put(
        "/v1/regions/{region}/status",
        status_code=204,
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    def report_status(region: str, batch: StatusBatch, token: Principal) -> None:
        auth.require_region(token, region)
        if region not in files.topology.regions:
            raise NotFound(f"no region {_shown(region)} in the topology")
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

    @app.get("/v1/status", responses=problems.responses(403))
    def get_status(token: Principal, service: str | None = None) -> list[dict[str, Any]]:
        if service is not None:
            auth.require_service(token, service)
        return [
            {
                "service": s.service,
                "environment": s.environment,
                "region": s.region,
                "report": s.report,
                "reported_at": s.reported_at.isoformat() if s.reported_at else None,
            }
            for s in store.statuses(service)
            if auth.can_read_service(token, s.service)
        ]

    def pops() -> set[str]:
        return {pop.name for pop in files.topology.pops}

    @app.get("/v1/pops/{pop}/config", responses=problems.responses(403, 404))
    async def pop_config(
        pop: str,
        token: Principal,
        after: Annotated[int | None, Query(ge=0, le=guard.MAX_INTEGER)] = None,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 0.0,
    ) -> dict[str, Any]:
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

        def build() -> dict[str, Any]:
            return glb.pop_config(
                pop, store.published(glb.ENVIRONMENT), store.heartbeats(), store.statuses(), definition_of
            )

        deadline = asyncio.get_running_loop().time() + wait
        while True:
            config = await run_in_threadpool(build)
            remaining = deadline - asyncio.get_running_loop().time()
            if after is None or config["version"] != after or remaining <= 0:
                return config
            # Ingress addresses arrive with status reports, which do not notify: re-read.
            await changes.wait(min(remaining, POLL_SECONDS))

    @app.put(
        "/v1/pops/{pop}/status", status_code=204, responses=problems.responses(403, 404, 409, *problems.BODY)
    )
    def report_pop(pop: str, report: PopReport, token: Principal) -> None:
        auth.require_pop(token, pop)
        if pop not in pops():
            raise NotFound(f"no PoP {_shown(pop)} in the topology")
        known = store.known_services(str(s["service"]) for s in report.services)
        kept, dropped = report_filter.keep_known(report.services, lambda s: str(s["service"]), known)
        drops.note(f"the edge of PoP {pop}", dropped)
        store.report_pop(pop, {**report.model_dump(), "services": kept})

    @app.get("/v1/glb", responses=problems.responses(403))
    def glb_status(token: Principal, service: str | None = None) -> list[dict[str, Any]]:
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
                {
                    "pop": status.pop,
                    "reported_at": status.reported_at.isoformat(),
                    "haproxy": status.report.get("haproxy"),
                    "services": services,
                }
            )
        return answer

    @app.get("/v1/audit", responses=problems.responses(403))
    def get_audit(
        token: Principal, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> list[dict[str, Any]]:
        auth.require_admin(token)
        return [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
            }
            for e in store.audit_log(limit)
        ]

    app.include_router(outcome_routes.router(store))
    app.include_router(token_routes.router(store, files))
    app.include_router(inventory_routes.router(store, files, changes.notify))
    app.add_exception_handler(UnknownService, inventory_routes.unknown_service_handler(files))
    return app


def sync_platform(store: SqlStore, topology: Topology, inventory: Inventory, actor: str) -> None:
    """Load the platform's topology and inventory into the store (at start and init)."""
    platform_files.sync(store, topology, inventory, actor)
