"""The API's OpenAPI document, as ``/openapi.json`` serves it.

FastAPI builds it from the routes: their parameters, bodies and answers, the bearer
scheme (from :func:`taxiway.server.auth.authenticate`'s dependency) and each route's
problem answers (:func:`taxiway.server.problems.responses`). What FastAPI cannot know is
added here: the problem schemas those answers name. FastAPI's own 422 schema
(``HTTPValidationError``) never appears: every route declares its 422 as the problem
document the API really answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from taxiway.server import problems

REF = "#/components/schemas/{model}"


def install(app: FastAPI) -> None:
    """Serve ``app``'s document with the problem schemas among its components."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            described = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = described.setdefault("components", {}).setdefault("schemas", {})
            for model in problems.SCHEMAS:
                schema = model.model_json_schema(ref_template=REF)
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            app.openapi_schema = described
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
