"""The control plane's API: one router per resource, each route authenticated and scoped.

``create_app`` takes everything it needs (store, topology, inventory) as arguments and
assembles the routers (``*_routes`` modules of this package) over them; the process
entry point (``taxiway server``) builds those from typed settings. The OpenAPI document
is served at ``/openapi.json``; there are no ``/docs`` pages (they need a CDN).
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from taxiway import __version__
from taxiway.errors import TaxiwayError, UnknownService
from taxiway.observability import api_metrics
from taxiway.plan import retention
from taxiway.sealing.keys import Sealer
from taxiway.server import (
    alert_routes,
    artifact_routes,
    audit_routes,
    guard,
    inventory_routes,
    long_poll,
    metrics_routes,
    openapi,
    outcome_routes,
    platform_files,
    pop_routes,
    problems,
    region_routes,
    report_filter,
    request_metrics,
    secret_routes,
    service_routes,
    text,
    token_routes,
)
from taxiway.spec.inventory import Inventory
from taxiway.spec.topology import Topology
from taxiway.store import protocol

log = logging.getLogger(__name__)


def create_app(
    store: protocol.Store,
    topology: Topology,
    inventory: Inventory,
    sealer: Sealer | None = None,
    files: platform_files.LivePlatform | None = None,
    policy: retention.Policy = retention.DEFAULT_POLICY,
    metrics: api_metrics.ApiMetrics | None = None,
) -> FastAPI:
    """The API over ``store``; ``sealer`` seals secret env values at rest (a throwaway key
    when none is given, for tests: secrets then do not survive a restart). ``files`` holds
    the platform's files as they are reloaded (fixed to ``topology`` and ``inventory``
    when none is given). ``policy`` bounds what each service stores. ``metrics`` records
    the API's own series (a registry of its own when none is given)."""
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
    changes = long_poll.Changes()
    app.state.changes = changes
    app.add_middleware(guard.Guard, store=store)
    app.add_exception_handler(TaxiwayError, problems.taxiway_error)
    app.add_exception_handler(RequestValidationError, problems.request_invalid)
    app.add_exception_handler(HTTPException, problems.http_error)
    app.add_exception_handler(Exception, problems.internal_error)
    # Status writes warn of reports they drop under this module's logger, as they always have.
    drops = report_filter.DropWarnings(log)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(secret_routes.router(store, sealer, changes.notify))
    app.include_router(region_routes.router(store, sealer, files, changes, drops))
    app.include_router(service_routes.router(store, sealer, files, policy, changes.notify))
    app.include_router(artifact_routes.router(store))
    app.include_router(pop_routes.router(store, files, changes, drops))
    app.include_router(audit_routes.router(store))
    app.include_router(outcome_routes.router(store))
    app.include_router(token_routes.router(store, files))
    app.include_router(inventory_routes.router(store, files, changes.notify))
    app.include_router(alert_routes.router(store))
    metrics = metrics or api_metrics.ApiMetrics(
        lambda: {region: beat.seen_at for region, beat in store.heartbeats().items()},
        lambda: {status.pop: status.reported_at for status in store.pop_statuses()},
    )
    app.state.metrics = metrics
    app.include_router(metrics_routes.router(metrics))
    templates = request_metrics.Templates(lambda: app.openapi().get("paths", {}))
    app.add_middleware(request_metrics.RequestMetrics, metrics=metrics, templates=templates)
    app.add_exception_handler(UnknownService, inventory_routes.unknown_service_handler(files))
    return app


def sync_platform(store: protocol.Store, topology: Topology, inventory: Inventory, actor: str) -> None:
    """Load the platform's topology and inventory into the store (at start and init)."""
    platform_files.sync(store, topology, inventory, actor)
