"""The API of artifacts: a revision's files (tar.gz), read by digest.

Included by :func:`taxiway.server.app.create_app`. A satellite reads the artifacts its
region's definitions name (and no other); an owner those of its services' revisions; an
admin any. The bytes are stored with the revision (:mod:`taxiway.server.service_routes`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from taxiway.server import auth, problems
from taxiway.store import protocol


class ArtifactResponse(Response):
    media_type = "application/gzip"


BINARY = {"schema": {"type": "string", "format": "binary"}}


def router(store: protocol.Store) -> APIRouter:
    routes = APIRouter()

    @routes.get(
        "/v1/artifacts/{digest}",
        response_class=ArtifactResponse,
        responses={
            200: {"description": "The artifact (tar.gz)", "content": {ArtifactResponse.media_type: BINARY}},
            **problems.responses(403, 404),
        },
    )
    def get_artifact(digest: str, token: auth.Principal) -> Response:
        if token.scope == "satellite":
            region = token.region or ""
            if digest not in {p.artifact for p in store.definitions_since(region, 0).items}:
                raise problems.Forbidden(f"no definition of region {region!r} uses artifact {digest}")
        elif token.scope != "admin" and not (store.artifact_services(digest) & set(token.services)):
            raise problems.Forbidden(f"this token may not read artifact {digest}")
        return ArtifactResponse(store.artifact(digest))

    return routes
