"""The API of platform secrets: set, list and unset a service's secret values per environment.

``taxiway secrets set|list|unset`` call these routes. The owner of the service (an
``owner`` token naming it) or an admin may use them. A value arrives once, in a request
body, is sealed at once with the key that seals every other secret of the control plane
and is never answered back: every answer carries names, versions, keyed digests, who set
them and when. Setting or unsetting a value republishes the definitions that name it
(:mod:`taxiway.store.secret_values`) and wakes the satellites, whose instances then roll.

``POST .../secret-digests`` answers the control plane's keyed digests of values a client
holds (``taxiway plan --remote``: the manifest's secret env values), so a plan compares
them with what is stored without the key leaving the control plane. The digests are of
the caller's own service only, and service and name are in each digest's input, so the
answer says nothing of any other service's values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from taxiway.errors import NotFound
from taxiway.plan.secret_digest import SecretValue
from taxiway.sealing.keys import Sealer
from taxiway.server import auth, problems
from taxiway.spec.manifest import ENVIRONMENTS, SECRET_NAME
from taxiway.store import protocol, records

Name = Annotated[str, Path(pattern=SECRET_NAME, max_length=128, description="The secret's name.")]

MAX_VALUE_BYTES = 64 * 1024
"""Secrets are short (passwords, tokens, keys); files belong in the artifact or a volume."""
MAX_DIGESTS = 256
"""Values one digests request may carry: a manifest's secret env values, with room."""


class NewValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=MAX_VALUE_BYTES, repr=False, description="The value.")


class NamedValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SECRET_NAME, max_length=128, description="The env var's name.")
    value: str = Field(max_length=MAX_VALUE_BYTES, repr=False, description="The value.")


class DigestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[NamedValue] = Field(max_length=MAX_DIGESTS, description="Values to digest, in order.")


def _environment(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise NotFound(f"no environment {environment!r}; environments: {', '.join(ENVIRONMENTS)}")


class SecretInfo(BaseModel):
    """What an answer says of a secret: never its value, sealed or not."""

    service: str
    environment: str
    name: str
    version: int
    digest: str | None
    """The keyed digest of the value; ``null`` once unset."""
    set_by: str
    set_at: str
    regions: list[str] | None = Field(default=None, exclude_if=lambda value: value is None)
    """The regions the change reaches; in the answer to a change only."""


class Digests(BaseModel):
    """The keyed digests of the values asked for, in their order."""

    digests: list[str]


def secret_json(secret: records.Secret, regions: list[str] | None = None) -> dict[str, Any]:
    """What an answer says of a secret: never its value, sealed or not."""
    answer: dict[str, Any] = {
        "service": secret.service,
        "environment": secret.environment,
        "name": secret.name,
        "version": secret.version,
        "digest": secret.digest,
        "set_by": secret.set_by,
        "set_at": secret.set_at.isoformat(),
    }
    if regions is not None:
        answer["regions"] = regions
    return answer


def router(store: protocol.Store, sealer: Sealer, notify: Callable[[], Awaitable[None]]) -> APIRouter:
    """The routes over ``store``; ``notify`` wakes the satellites' long polls."""
    routes = APIRouter(tags=["secrets"])

    @routes.get("/v1/services/{service}/secrets", responses=problems.responses(403, 404))
    def list_secrets(
        service: str, token: auth.Principal, environment: Annotated[str | None, Query()] = None
    ) -> list[SecretInfo]:
        auth.require_service(token, service)
        if environment is not None:
            _environment(environment)
        return [SecretInfo(**secret_json(s)) for s in store.secrets(service, environment)]

    @routes.put(
        "/v1/services/{service}/environments/{environment}/secrets/{name}",
        responses=problems.responses(403, 404, 409, *problems.BODY),
    )
    async def set_secret(
        service: str, environment: str, name: Name, body: NewValue, token: auth.Principal
    ) -> SecretInfo:
        auth.require_service(token, service)
        _environment(environment)
        allowed = store.service(service).entry.get("environments")
        if isinstance(allowed, list) and environment not in allowed:
            raise NotFound(
                f"{service} does not run in {environment}; its environments in the inventory: "
                f"{', '.join(map(str, allowed))}"
            )
        sealed = sealer.seal(body.value)
        digest = sealer.keyed_digest(SecretValue(service, environment, name, body.value))
        secret, regions = await run_in_threadpool(
            store.set_secret, service, environment, name, sealed, digest, auth.actor(token)
        )
        await notify()
        return SecretInfo(**secret_json(secret, regions))

    @routes.delete(
        "/v1/services/{service}/environments/{environment}/secrets/{name}",
        responses=problems.responses(403, 404, 409),
    )
    async def unset_secret(service: str, environment: str, name: Name, token: auth.Principal) -> SecretInfo:
        auth.require_service(token, service)
        _environment(environment)
        secret, regions = await run_in_threadpool(
            store.unset_secret, service, environment, name, auth.actor(token)
        )
        await notify()
        return SecretInfo(**secret_json(secret, regions))

    @routes.post(
        "/v1/services/{service}/environments/{environment}/secret-digests",
        responses=problems.responses(403, 404, *problems.BODY),
    )
    def secret_digests(service: str, environment: str, body: DigestRequest, token: auth.Principal) -> Digests:
        """The keyed digests of ``values`` as this service's definitions in ``environment``
        would carry them; nothing is stored."""
        auth.require_service(token, service)
        _environment(environment)
        store.service(service)
        digests = [
            sealer.keyed_digest(SecretValue(service, environment, item.name, item.value))
            for item in body.values
        ]
        return Digests(digests=digests)

    return routes
