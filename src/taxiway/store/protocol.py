"""The store as the control plane's API sees it: one :class:`Store` protocol.

:mod:`taxiway.server` types against this protocol; :class:`taxiway.store.sql.SqlStore`
(SQLite and PostgreSQL) is its real implementation, and the only one today. What the
store promises holds for every implementation: each method is one transaction, which
commits all it changed (its audit row included) or raises a :class:`~taxiway.errors.TaxiwayError`
and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from taxiway.plan import outcomes, retention
from taxiway.store import records

Definitions = Mapping[str, Mapping[str, Any]]
"""Regional definitions of one environment, as JSON documents keyed by region."""


class Store(Protocol):
    """What the control plane's routes, guard and platform files read and write."""

    # -- platform: regions, nodes, the inventory's services

    def sync_regions(self, rows: Sequence[records.Region], actor: str) -> None: ...

    def regions(self) -> list[records.Region]: ...

    def set_node_state(self, region: str, datacenter: str, node: str, state: str, actor: str) -> int:
        """Mark a node ``failed`` or ``ready``; answers the change's seq (satellites see it)."""
        ...

    def sync_services(self, entries: Mapping[str, dict[str, Any]], actor: str) -> list[str]:
        """Create or update the inventory file's entries; answers the names the API changed."""
        ...

    def service(self, name: str) -> records.Service:
        """A service of the inventory; :class:`~taxiway.errors.UnknownService` when there is none."""
        ...

    def services(self) -> list[records.Service]: ...

    def known_services(self, names: Iterable[str]) -> set[str]:
        """Those of ``names`` that are services of the inventory now."""
        ...

    def register_service(self, name: str, entry: dict[str, Any], actor: str) -> records.Service: ...

    def update_service(
        self, name: str, entry: dict[str, Any], actor: str, expected_version: int | None = None
    ) -> records.Service: ...

    def delete_service(self, name: str, actor: str) -> records.Service: ...

    # -- revisions, artifacts and desired state

    def create_revision(
        self,
        service: str,
        by_environment: Mapping[str, Definitions],
        digest: str,
        actor: str,
        artifact: str | None = None,
        *,
        artifact_data: bytes | None = None,
        policy: retention.Policy = retention.DEFAULT_POLICY,
    ) -> records.Revision:
        """Store an immutable revision; identical content returns the existing one."""
        ...

    def revision(self, service: str, number: int) -> records.Revision: ...

    def revisions(self, service: str) -> list[records.Revision]: ...

    def storage(
        self, service: str, policy: retention.Policy = retention.DEFAULT_POLICY
    ) -> retention.Decision: ...

    def artifact(self, digest: str) -> bytes: ...

    def artifact_services(self, digest: str) -> set[str]:
        """The services with a revision made from this artifact (who may read it)."""
        ...

    def desired(self, service: str, environment: str) -> records.Desired | None: ...

    def set_desired(
        self, service: str, environment: str, number: int, expected_version: int, actor: str
    ) -> records.Desired:
        """Point an environment at a revision and publish its regional definitions."""
        ...

    def undeploy(self, service: str, environment: str, actor: str) -> list[str]:
        """Tombstone every regional definition of ``service`` in ``environment``."""
        ...

    def definitions_since(self, region: str, after: int) -> records.Changes:
        """Every definition of ``region`` changed after cursor ``after`` (0: all of them)."""
        ...

    def published(self, environment: str) -> list[records.Published]: ...

    def outcomes(self, service: str) -> list[outcomes.Outcome]: ...

    # -- platform secrets

    def secrets(self, service: str, environment: str | None = None) -> list[records.Secret]: ...

    def check_secrets(
        self, service: str, environment: str, documents: Sequence[Mapping[str, Any]]
    ) -> None: ...

    def set_secret(
        self, service: str, environment: str, name: str, sealed: str, digest: str, actor: str
    ) -> tuple[records.Secret, list[str]]: ...

    def unset_secret(
        self, service: str, environment: str, name: str, actor: str
    ) -> tuple[records.Secret, list[str]]: ...

    # -- status from regions and PoPs

    def report_status(
        self,
        region: str,
        reports: Sequence[records.Status],
        cursor: int,
        api: str | None = None,
        ingress: str | None = None,
    ) -> None: ...

    def heartbeats(self) -> dict[str, records.Heartbeat]: ...

    def statuses(self, service: str | None = None) -> list[records.Status]: ...

    def report_pop(self, pop: str, report: dict[str, Any]) -> None: ...

    def pop_statuses(self) -> list[records.PopStatus]: ...

    # -- alerts from Alertmanager

    def record_alerts(self, delivered: Sequence[records.DeliveredAlert], actor: str) -> int:
        """Record a notification's alerts, idempotently; answers how many changed state."""
        ...

    def alerts(self, service: str | None, status: str | None = None, limit: int = 500) -> list[records.Alert]:
        """The alerts of ``service`` (None: all of them), newest first; only ``status`` when given."""
        ...

    # -- audit and tokens

    def audit_log(self, limit: int = 100) -> list[records.AuditEntry]: ...

    def issue_token(
        self,
        name: str,
        scope: records.Scope,
        actor: str,
        services: Sequence[str] = (),
        bound: str | None = None,
    ) -> tuple[records.IssuedToken, str]:
        """A new token and its bearer string, which exists only in this answer."""
        ...

    def tokens(self) -> list[records.IssuedToken]: ...

    def authenticate(self, bearer: str) -> records.Token | None:
        """The token a bearer string stands for, or None (never cached)."""
        ...

    def revoke_token(self, token_id: str, actor: str) -> records.IssuedToken: ...
