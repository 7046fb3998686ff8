"""The inventory through the API: register, change, list and delete services (admin only).

Included by :func:`taxiway.server.app.create_app`. A service registered here is stored in
the control plane's store (on SQLite and PostgreSQL alike) and can deploy at once; the
inventory file stays the seed, loaded at start and on every reload, with the services
registered here layered over it (``GET /v1/inventory`` shows both, and is what ``taxiway
services export`` prints as YAML). ``DELETE .../environments/{environment}`` removes a
service's definitions from an environment (explicit, versioned tombstones: the satellites
stop its instances), which deleting a service requires first. ``POST /v1/platform/reload``
reloads the topology and inventory files now, as SIGHUP does.

:func:`unknown_service_handler` answers every "no such service" with the file and the
command that fix it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from taxiway.errors import Conflict, InvalidInput, NotFound, UnknownService
from taxiway.server import auth, guard, platform_files, problems
from taxiway.spec.inventory import InventoryService
from taxiway.spec.manifest import ENVIRONMENTS
from taxiway.store import protocol, records


class ServiceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry: dict[str, Any] = Field(description="The whole inventory entry (as in the inventory file).")
    expected_version: int | None = Field(
        default=None, ge=1, le=guard.MAX_INTEGER, description="The version read before."
    )


def _checked(name: str, entry: dict[str, Any], files: platform_files.LivePlatform) -> dict[str, Any]:
    """An inventory entry validated like the file's, regions checked against the topology."""
    try:
        service = InventoryService.model_validate({**entry, "name": name})
    except pydantic.ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(entry)'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"inventory entry for {name!r} is invalid: {details}") from exc
    known = files.topology.regions
    unknown = [r for r in service.regions if r not in known]
    if unknown:
        raise InvalidInput(
            f"inventory entry for {name!r}: unknown region {', '.join(unknown)}; "
            f"regions of the topology: {', '.join(known)}"
        )
    document = service.model_dump(mode="json", by_alias=True)
    document.pop("name")
    return document


class Undeployed(BaseModel):
    """What an undeploy removed: the regions whose definitions it tombstoned."""

    service: str
    environment: str
    removed_from: list[str]


def _service_json(service: records.Service) -> dict[str, Any]:
    return {"name": service.name, "version": service.version, "origin": service.origin, **service.entry}


def router(
    store: protocol.Store, files: platform_files.LivePlatform, notify: Callable[[], Awaitable[None]]
) -> APIRouter:
    routes = APIRouter()

    @routes.get("/v1/inventory", responses=problems.responses(403))
    def get_inventory(token: auth.Principal) -> dict[str, Any]:
        """Every service of the inventory: the file's and those registered through the API."""
        auth.require_admin(token)
        return {
            "file": str(files.inventory_path) if files.inventory_path else None,
            "services": [_service_json(s) for s in store.services()],
        }

    @routes.post(
        "/v1/inventory/services", status_code=201, responses=problems.responses(403, 409, *problems.BODY)
    )
    def create_service(body: dict[str, Any], token: auth.Principal) -> dict[str, Any]:
        auth.require_admin(token)
        name = body.get("name")
        if not isinstance(name, str):
            raise InvalidInput("the inventory entry needs a 'name'")
        entry = _checked(name, {k: v for k, v in body.items() if k != "name"}, files)
        return _service_json(store.register_service(name, entry, auth.actor(token)))

    @routes.put("/v1/inventory/services/{name}", responses=problems.responses(403, 404, 409, *problems.BODY))
    def update_service(name: str, change: ServiceChange, token: auth.Principal) -> dict[str, Any]:
        auth.require_admin(token)
        entry = _checked(name, change.entry, files)
        return _service_json(store.update_service(name, entry, auth.actor(token), change.expected_version))

    @routes.delete("/v1/inventory/services/{name}", responses=problems.responses(403, 404, 409))
    def delete_service(name: str, token: auth.Principal) -> dict[str, Any]:
        auth.require_admin(token)
        found = store.service(name)
        if found.origin == "file" and name in files.file_inventory.by_name:
            raise Conflict(
                f"service {name!r} is listed in the inventory file {files.inventory_file}; nothing was "
                "deleted. Remove it from that file first (else it comes back on the next reload), "
                "then delete it"
            )
        return _service_json(store.delete_service(name, auth.actor(token)))

    @routes.delete(
        "/v1/services/{service}/environments/{environment}", responses=problems.responses(403, 404, 409)
    )
    async def undeploy(service: str, environment: str, token: auth.Principal) -> Undeployed:
        """Remove every regional definition of ``service`` in ``environment``."""
        auth.require_admin(token)
        if environment not in ENVIRONMENTS:
            raise NotFound(f"no environment {environment!r}; environments: {', '.join(ENVIRONMENTS)}")
        regions = await run_in_threadpool(store.undeploy, service, environment, auth.actor(token))
        await notify()
        return Undeployed(service=service, environment=environment, removed_from=regions)

    @routes.post("/v1/platform/reload", responses=problems.responses(403, *problems.BODY))
    async def reload(token: auth.Principal) -> dict[str, Any]:
        """Reload the topology and inventory files now (as SIGHUP does)."""
        auth.require_admin(token)
        done = await run_in_threadpool(files.reload, store, auth.actor(token))
        return done.to_json()

    return routes


def unknown_service_handler(
    files: platform_files.LivePlatform,
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """Answers :class:`UnknownService` naming the inventory file and the command that fix it."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, UnknownService)
        name = exc.service
        fixed = NotFound(
            f"no service named {name!r} in the inventory; register it with "
            f"`taxiway services create {name} --owner TEAM --regions R1,R2` (admin token), "
            f"or add it to the inventory file {files.inventory_file} (the control plane reloads it "
            "on change or on SIGHUP)"
        )
        return problems.for_error(fixed)

    return handle
