"""The API of services: their revisions, storage, and what each environment runs.

Included by :func:`taxiway.server.app.create_app`. ``POST .../revisions`` derives an
upload itself (:mod:`taxiway.server.uploads`) and stores it as an immutable, numbered
revision, its secret values sealed; ``PUT .../environments/{environment}`` points an
environment at a revision (guarded by the version read before) and wakes the
satellites, which pull the regional definitions it published.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from taxiway.errors import InvalidInput, NotFound
from taxiway.plan import retention
from taxiway.sealing.definitions import seal_values, shown
from taxiway.sealing.keys import Sealer
from taxiway.server import auth, guard, platform_files, problems, uploads
from taxiway.server.body import Body
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.store import protocol, records

# The service's files travel with a revision; larger services belong in an image registry.
MAX_ARTIFACT_BYTES = guard.MAX_ARTIFACT_BYTES


class ArtifactUpload(Body):
    format: Literal["tar.gz"] = "tar.gz"
    data: str = Field(description="The tar.gz, base64.", max_length=(MAX_ARTIFACT_BYTES * 4) // 3 + 8)


class RevisionUpload(Body):
    files: dict[str, str] = Field(description="The .taxiway/ directory: file name -> YAML text.")
    artifact: ArtifactUpload | None = Field(default=None, description="The service's files (tar.gz).")


class DesiredChange(Body):
    revision: int = Field(ge=1, le=guard.MAX_INTEGER)
    expected_version: int = Field(
        ge=0, le=guard.MAX_INTEGER, description="The version read before; 0 if none existed."
    )


class DesiredState(BaseModel):
    """The revision an environment of a service should run; ``version`` guards its changes."""

    service: str
    environment: str
    revision: int
    version: int
    updated_by: str
    updated_at: str


class ServiceDetail(BaseModel):
    """A service: its inventory entry and what each environment should run (``null``: never deployed)."""

    name: str
    version: int
    entry: dict[str, Any]
    environments: dict[str, DesiredState | None]


class RevisionSummary(BaseModel):
    """A revision as listed: the environments it defines, not the definitions."""

    number: int
    digest: str
    created_by: str
    created_at: str
    environments: list[str]
    artifact: str | None
    pruned_at: str | None


class RevisionDetail(BaseModel):
    """A revision with its definitions by environment, then region (secret values shown as digests)."""

    number: int
    digest: str
    artifact: str | None
    created_by: str
    created_at: str
    pruned_at: str | None
    definitions: dict[str, dict[str, Any]]


class NewRevision(BaseModel):
    """The revision an upload made."""

    service: str
    number: int
    digest: str
    artifact: str | None


class KeptRevision(BaseModel):
    revision: int
    why: str


class Storage(BaseModel):
    """What a service keeps of its revisions and artifacts, why, and its bounds."""

    service: str
    artifact_bytes: int
    quota_bytes: int
    keep_newest: int
    kept: list[KeptRevision]


def _desired_json(d: records.Desired) -> DesiredState:
    return DesiredState(
        service=d.service,
        environment=d.environment,
        revision=d.revision,
        version=d.version,
        updated_by=d.updated_by,
        updated_at=d.updated_at.isoformat(),
    )


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


def router(
    store: protocol.Store,
    sealer: Sealer,
    files: platform_files.LivePlatform,
    policy: retention.Policy,
    notify: Callable[[], Awaitable[None]],
) -> APIRouter:
    """The routes over ``store``; ``notify`` wakes the satellites' long polls."""
    routes = APIRouter()

    @routes.get("/v1/services")
    def list_services(token: auth.Principal) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "version": s.version, **s.entry}
            for s in store.services()
            if auth.can_read_service(token, s.name)
        ]

    @routes.get("/v1/services/{service}", responses=problems.responses(403, 404))
    def get_service(service: str, token: auth.Principal) -> ServiceDetail:
        auth.require_service(token, service)
        found = store.service(service)
        environments = {}
        for environment in ENVIRONMENTS:
            current = store.desired(service, environment)
            environments[environment] = _desired_json(current) if current else None
        return ServiceDetail(
            name=found.name, version=found.version, entry=found.entry, environments=environments
        )

    @routes.get("/v1/services/{service}/revisions", responses=problems.responses(403, 404))
    def list_revisions(service: str, token: auth.Principal) -> list[RevisionSummary]:
        auth.require_service(token, service)
        store.service(service)
        return [
            RevisionSummary(
                number=r.number,
                digest=r.digest,
                created_by=r.created_by,
                created_at=r.created_at.isoformat(),
                environments=sorted(r.definitions),
                artifact=r.artifact,
                pruned_at=r.pruned_at.isoformat() if r.pruned_at else None,
            )
            for r in store.revisions(service)
        ]

    @routes.get("/v1/services/{service}/storage", responses=problems.responses(403, 404))
    def service_storage(service: str, token: auth.Principal) -> Storage:
        """What the service keeps of its revisions and artifacts, why, and its bounds."""
        auth.require_service(token, service)
        decision = store.storage(service, policy)
        return Storage(
            service=service,
            artifact_bytes=decision.stored_bytes,
            quota_bytes=policy.quota_bytes,
            keep_newest=policy.keep_newest,
            kept=[KeptRevision(revision=n, why=why) for n, why in sorted(decision.kept.items())],
        )

    @routes.post(
        "/v1/services/{service}/revisions",
        status_code=201,
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    def create_revision(
        service: str,
        upload: RevisionUpload,
        token: auth.Principal,
        environment: Annotated[
            str | None, Query(description="Refuse (store nothing) if a secret is missing here.")
        ] = None,
    ) -> NewRevision:
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
            service, sealed, derived.digest, auth.actor(token), artifact, artifact_data=data, policy=policy
        )
        return NewRevision(
            service=service, number=revision.number, digest=revision.digest, artifact=revision.artifact
        )

    @routes.get("/v1/services/{service}/revisions/{number}", responses=problems.responses(403, 404))
    def get_revision(
        service: str, number: Annotated[int, Path(ge=1, le=guard.MAX_INTEGER)], token: auth.Principal
    ) -> RevisionDetail:
        auth.require_service(token, service)
        r = store.revision(service, number)
        definitions = {
            environment: {region: shown(d, sealer) for region, d in by_region.items()}
            for environment, by_region in r.definitions.items()
        }
        return RevisionDetail(
            number=r.number,
            digest=r.digest,
            artifact=r.artifact,
            created_by=r.created_by,
            created_at=r.created_at.isoformat(),
            pruned_at=r.pruned_at.isoformat() if r.pruned_at else None,
            definitions=definitions,
        )

    @routes.get("/v1/services/{service}/environments/{environment}", responses=problems.responses(403, 404))
    def get_desired(service: str, environment: str, token: auth.Principal) -> DesiredState:
        auth.require_service(token, service)
        current = store.desired(service, environment)
        if current is None:
            raise NotFound(f"{service} has never been deployed to {environment}")
        return _desired_json(current)

    @routes.put(
        "/v1/services/{service}/environments/{environment}",
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    async def set_desired(
        service: str, environment: str, change: DesiredChange, token: auth.Principal
    ) -> DesiredState:
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
        await notify()
        return _desired_json(result)

    return routes
