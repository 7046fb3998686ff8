"""The SQL store: one implementation over SQLite (default) and PostgreSQL (for HA).

Every public method is one transaction: it either commits all it changed, audit row
included, or raises and changes nothing. Database errors are translated into Taxiway's
exception tree at this boundary (a lost optimistic-concurrency race is
:class:`~taxiway.errors.Conflict`, an unreachable database is
:class:`~taxiway.errors.TransientError`).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from taxiway.errors import Conflict, NotFound, TransientError
from taxiway.plan import outcomes, publication, retention
from taxiway.store import (
    alert_rows,
    migrate,
    outcome_rows,
    protocol,
    records,
    retention_rows,
    secret_values,
    service_rows,
    sqlite_file,
    token_rows,
)
from taxiway.store.tables import (
    artifacts,
    audit,
    counters,
    definitions,
    desired,
    heartbeats,
    node_states,
    pop_statuses,
    regions,
    revisions,
    services,
    statuses,
    tokens,
)

Clock = Callable[[], datetime.datetime]
ALERT_ATTEMPTS = 3
ALERTS_LISTED = 500
"""The most alerts one listing answers (newest first)."""


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


WRITE_OPTION = "taxiway_write"
"""Execution option of the store's write transactions (``BEGIN IMMEDIATE`` on SQLite)."""


def engine_for(url: str) -> sa.Engine:
    """An engine for a SQLAlchemy URL; SQLite gets WAL and a busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own BEGIN would be deferred; _begin below says which kind.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            # A deferred transaction that reads, then writes, fails at once with "database
            # is locked" when another writer committed in between (WAL cannot upgrade its
            # snapshot, and SQLite does not wait): writers take the write lock up front and
            # wait their turn, up to the busy timeout.
            immediate = connection.get_execution_options().get(WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _private_sqlite_file(url: str) -> None:
    database = sa.engine.make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        sqlite_file.make_private(Path(database), "the database file")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SqlStore:
    """The control plane's store (:class:`taxiway.store.protocol.Store`). Construct with :meth:`open`."""

    def __init__(self, engine: sa.Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(cls, url: str, clock: Clock = utc_now) -> SqlStore:
        """Connect and bring the schema up to date."""
        engine = engine_for(url)
        try:
            migrate.upgrade(engine)
        except sa.exc.OperationalError as exc:
            raise TransientError(f"cannot reach the database: {exc.orig}") from exc
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
                yield connection
        except sa.exc.IntegrityError as exc:
            raise Conflict("a concurrent change got there first; nothing was changed") from exc
        except sa.exc.OperationalError as exc:
            raise TransientError(f"database unavailable: {exc.orig}") from exc

    def _audit(self, c: sa.Connection, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        c.execute(
            audit.insert().values(at=self.clock(), actor=actor, action=action, target=target, detail=detail)
        )

    def _next_seq(self, c: sa.Connection) -> int:
        # The row lock taken here serialises writers, so seq order is commit order.
        c.execute(counters.update().where(counters.c.name == "changes").values(value=counters.c.value + 1))
        return int(c.execute(sa.select(counters.c.value).where(counters.c.name == "changes")).scalar_one())

    # -- platform ---------------------------------------------------------------------

    def sync_regions(self, rows: Sequence[records.Region], actor: str) -> None:
        with self._tx() as c:
            existing = {r.name for r in c.execute(sa.select(regions.c.name))}
            for row in rows:
                values = {"continent": row.continent, "driver": row.driver}
                if row.name in existing:
                    c.execute(regions.update().where(regions.c.name == row.name).values(**values))
                else:
                    c.execute(regions.insert().values(name=row.name, **values))
            self._audit(c, actor, "regions.sync", "regions", {"regions": [r.name for r in rows]})

    def regions(self) -> list[records.Region]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(regions).order_by(regions.c.name))
            return [records.Region(r.name, r.continent, r.driver) for r in rows]

    def sync_services(self, entries: Mapping[str, dict[str, Any]], actor: str) -> list[str]:
        """Create or update the inventory file's entries (JSON documents keyed by name);
        answers the names registered or changed through the API, which the file does not override."""
        with self._tx() as c:
            kept = service_rows.seed(c, entries)
            self._audit(c, actor, "services.sync", "services", {"services": sorted(entries), "kept": kept})
        return kept

    def service(self, name: str) -> records.Service:
        """A service of the inventory; :class:`~taxiway.errors.UnknownService` when there is none."""
        with self.engine.connect() as c:
            return service_rows.to_record(service_rows.live(c, name))

    def services(self) -> list[records.Service]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(services).where(services.c.deleted_at.is_(None)).order_by(services.c.name)
            )
            return [service_rows.to_record(r) for r in rows]

    def known_services(self, names: Iterable[str]) -> set[str]:
        """Those of ``names`` that are services of the inventory now (one query, however
        large the inventory: status writes check their reports with it)."""
        wanted = sorted(set(names))
        if not wanted:
            return set()
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(services.c.name).where(services.c.name.in_(wanted), services.c.deleted_at.is_(None))
            )
            return {r.name for r in rows}

    def register_service(self, name: str, entry: dict[str, Any], actor: str) -> records.Service:
        """Add a service to the inventory through the API (:class:`Conflict` if it exists)."""
        with self._tx() as c:
            created = service_rows.register(c, name, entry)
            self._audit(c, actor, "service.create", f"service:{name}", {"entry": entry})
        return created

    def update_service(
        self, name: str, entry: dict[str, Any], actor: str, expected_version: int | None = None
    ) -> records.Service:
        """Replace a service's inventory entry; from then on the file no longer overrides it."""
        with self._tx() as c:
            changed = service_rows.update(c, name, entry, expected_version)
            self._audit(c, actor, "service.update", f"service:{name}", {"entry": entry})
        return changed

    def delete_service(self, name: str, actor: str) -> records.Service:
        """Take a service out of the inventory; refused (:class:`Conflict`) while any region
        has a definition of it. Its revisions stay."""
        with self._tx() as c:
            deleted = service_rows.delete(c, name, self.clock())
            self._audit(c, actor, "service.delete", f"service:{name}", {})
        return deleted

    def undeploy(self, service: str, environment: str, actor: str) -> list[str]:
        """Remove every regional definition of ``service`` in ``environment`` with explicit,
        versioned tombstones (satellites stop its instances); answers the regions."""
        with self._tx() as c:
            service_rows.live(c, service)
            regions = service_rows.running(c, service).get(environment, [])
            pointed = c.execute(
                sa.select(desired.c.revision).where(
                    desired.c.service == service, desired.c.environment == environment
                )
            ).scalar()
            if not regions and pointed is None:
                raise NotFound(f"{service} is not deployed to {environment}; there is nothing to remove")
            seq = self._next_seq(c)
            c.execute(
                definitions.update()
                .where(
                    definitions.c.service == service,
                    definitions.c.environment == environment,
                    definitions.c.region.in_(regions),
                )
                .values(definition=None, seq=seq)
            )
            c.execute(
                desired.delete().where(desired.c.service == service, desired.c.environment == environment)
            )
            if pointed is not None:
                outcome_rows.record_left(c, service, environment, int(pointed), None, self.clock())
            self._audit(
                c, actor, "desired.remove", f"{service}/{environment}", {"regions": regions, "seq": seq}
            )
        return regions

    def outcomes(self, service: str) -> list[outcomes.Outcome]:
        """What became of each revision of ``service`` in each environment it was deployed to."""
        with self.engine.connect() as c:
            return outcome_rows.read(c, service)

    # -- revisions and desired state --------------------------------------------------

    def artifact(self, digest: str) -> bytes:
        with self.engine.connect() as c:
            data = c.execute(sa.select(artifacts.c.data).where(artifacts.c.digest == digest)).scalar()
        if data is None:
            raise NotFound(f"no artifact {digest}")
        return bytes(data)

    def artifact_services(self, digest: str) -> set[str]:
        """The services with a revision made from this artifact (who may read it)."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(revisions.c.service).where(revisions.c.artifact == digest).distinct())
            return {r.service for r in rows}

    def create_revision(
        self,
        service: str,
        by_environment: Mapping[str, protocol.Definitions],
        digest: str,
        actor: str,
        artifact: str | None = None,
        *,
        artifact_data: bytes | None = None,
        policy: retention.Policy = retention.DEFAULT_POLICY,
    ) -> records.Revision:
        """Store an immutable revision; identical content returns the existing one.

        ``digest`` identifies the content (manifests and artifact). The artifact's bytes
        come as ``artifact_data``, stored in the same transaction (content-addressed: storing
        twice keeps one copy); ``artifact`` is their digest when the caller has it already.
        The service's retention (``policy``) is applied in the
        same transaction: older revisions it no longer keeps are pruned, and a revision
        that cannot fit raises :class:`~taxiway.errors.QuotaExceeded` with nothing stored.
        """
        self.service(service)
        if artifact_data is None:
            artifact = None
        elif artifact is None:
            artifact = "sha256:" + hashlib.sha256(artifact_data).hexdigest()
        with self._tx() as c:
            same = c.execute(
                sa.select(revisions).where(
                    revisions.c.service == service,
                    revisions.c.digest == digest,
                    revisions.c.pruned_at.is_(None),
                )
            ).first()
            if same is not None:
                return _revision(same)
            latest = c.execute(
                sa.select(sa.func.max(revisions.c.number)).where(revisions.c.service == service)
            ).scalar()
            number = int(latest or 0) + 1
            size = len(artifact_data) if artifact_data is not None else 0
            decision = retention_rows.decide(c, service, retention.Stored(number, artifact, size), policy)
            if artifact_data is not None and artifact is not None:
                self._insert_artifact(c, artifact, artifact_data)
            stored = records.Revision(
                service=service,
                number=number,
                digest=digest,
                definitions={env: dict(defs) for env, defs in by_environment.items()},
                created_by=actor,
                created_at=self.clock(),
                artifact=artifact,
            )
            c.execute(revisions.insert().values(**dataclasses.asdict(stored)))
            freed = retention_rows.prune(c, service, decision.pruned, self.clock())
            detail: dict[str, Any] = {"digest": digest}
            if decision.pruned:
                detail.update(pruned=list(decision.pruned), artifact_bytes_freed=freed)
            self._audit(c, actor, "revision.create", f"{service}#{number}", detail)
            return stored

    def storage(
        self, service: str, policy: retention.Policy = retention.DEFAULT_POLICY
    ) -> retention.Decision:
        """What ``service`` keeps now under ``policy`` and why (nothing is pruned here)."""
        self.service(service)
        with self.engine.connect() as c:
            return retention_rows.decide(c, service, None, policy)

    def _insert_artifact(self, c: sa.Connection, digest: str, data: bytes) -> None:
        if c.execute(sa.select(artifacts.c.digest).where(artifacts.c.digest == digest)).first() is None:
            c.execute(
                artifacts.insert().values(digest=digest, size=len(data), data=data, created_at=self.clock())
            )

    def revision(self, service: str, number: int) -> records.Revision:
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(revisions).where(revisions.c.service == service, revisions.c.number == number)
            ).first()
        if row is None:
            raise NotFound(f"service {service!r} has no revision {number}")
        return _revision(row)

    def revisions(self, service: str) -> list[records.Revision]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(revisions).where(revisions.c.service == service).order_by(revisions.c.number)
            )
            return [_revision(r) for r in rows]

    def desired(self, service: str, environment: str) -> records.Desired | None:
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(desired).where(desired.c.service == service, desired.c.environment == environment)
            ).first()
        return None if row is None else _desired(row)

    def set_desired(
        self, service: str, environment: str, number: int, expected_version: int, actor: str
    ) -> records.Desired:
        """Point an environment at a revision and publish its regional definitions, with
        the values of the secrets they name (:mod:`taxiway.store.secret_values`).

        ``expected_version`` is the version the caller read (0 when none existed). A
        stale one raises :class:`Conflict`, a named secret without a value in
        ``environment`` :class:`ValidationFailed`; either changes nothing.
        """
        revision = self.revision(service, number)
        if revision.pruned_at is not None:
            raise NotFound(
                f"revision {number} of {service!r} was pruned on {revision.pruned_at:%Y-%m-%d %H:%M} UTC "
                "(a service keeps its newest revisions and what each environment runs or would roll "
                "back to); nothing changed. Deploy a newer revision, or deploy its files again"
            )
        wanted = revision.definitions.get(environment)
        if wanted is None:
            raise NotFound(f"revision {number} of {service!r} has nothing for {environment}")
        now = self.clock()
        with self._tx() as c:
            found = secret_values.live(c, service, environment)
            secret_values.refuse_missing(service, environment, wanted.values(), found)
            previous = c.execute(
                sa.select(desired.c.revision).where(
                    desired.c.service == service, desired.c.environment == environment
                )
            ).scalar()
            values = {"revision": number, "updated_by": actor, "updated_at": now}
            if expected_version == 0:
                c.execute(
                    desired.insert().values(service=service, environment=environment, version=1, **values)
                )
            else:
                done = c.execute(
                    desired.update()
                    .where(
                        desired.c.service == service,
                        desired.c.environment == environment,
                        desired.c.version == expected_version,
                    )
                    .values(version=expected_version + 1, **values)
                )
                if done.rowcount != 1:
                    raise Conflict(
                        f"{service} ({environment}) changed since version {expected_version}; "
                        "nothing was changed: read it again and retry"
                    )
            seq = self._next_seq(c)
            rows = c.execute(
                sa.select(definitions.c.region, definitions.c.definition).where(
                    definitions.c.service == service, definitions.c.environment == environment
                )
            )
            published = {r.region: r.definition for r in rows}
            decided = publication.decide(wanted, published)
            for region, document in decided.definitions.items():
                values = {
                    "revision": number,
                    "definition": secret_values.with_values(document, found),
                    "seq": seq,
                }
                _put_definition(c, (region, service, environment), values, new=region not in published)
            # Regions the new revision leaves get an explicit, versioned tombstone.
            for region in decided.tombstones:
                values = {"revision": number, "definition": None, "seq": seq}
                _put_definition(c, (region, service, environment), values, new=False)
            outcome_rows.record_deploy(c, service, environment, number, previous, actor, now)
            self._audit(
                c,
                actor,
                "desired.set",
                f"{service}/{environment}",
                {"revision": number, "regions": sorted(wanted), "seq": seq},
            )
            row = c.execute(
                sa.select(desired).where(desired.c.service == service, desired.c.environment == environment)
            ).one()
            return _desired(row)

    def definitions_since(self, region: str, after: int) -> records.Changes:
        """Every definition of ``region`` changed after cursor ``after`` (0: all of them),
        with the artifact of each one's revision, and the region's failed nodes."""
        with self.engine.connect() as c:
            cursor = int(
                c.execute(sa.select(counters.c.value).where(counters.c.name == "changes")).scalar_one()
            )
            rows = c.execute(
                sa.select(definitions, revisions.c.artifact)
                .select_from(
                    definitions.outerjoin(
                        revisions,
                        (revisions.c.service == definitions.c.service)
                        & (revisions.c.number == definitions.c.revision),
                    )
                )
                .where(definitions.c.region == region, definitions.c.seq > after, definitions.c.seq <= cursor)
                .order_by(definitions.c.seq, definitions.c.service, definitions.c.environment)
            )
            items = [
                records.Published(
                    r.region,
                    r.service,
                    r.environment,
                    r.revision,
                    None if r.definition is None else dict(r.definition),
                    r.seq,
                    r.artifact,
                )
                for r in rows
            ]
            nodes = list(c.execute(sa.select(node_states).where(node_states.c.region == region)))
        return records.Changes(
            cursor,
            items,
            failed_nodes=sorted((n.datacenter, n.node) for n in nodes if n.state == "failed"),
            nodes_changed=any(after < n.seq <= cursor for n in nodes),
        )

    # -- platform secrets ---------------------------------------------------------------

    def secrets(self, service: str, environment: str | None = None) -> list[records.Secret]:
        """The secrets of ``service`` (in ``environment``) that have a value, sealed."""
        self.service(service)
        with self.engine.connect() as c:
            return [s for s in secret_values.read(c, service, environment) if s.live]

    def check_secrets(self, service: str, environment: str, documents: Sequence[Mapping[str, Any]]) -> None:
        """Raise :class:`ValidationFailed` when ``documents`` name a secret with no value in
        ``environment`` (a deploy checks before it stores anything)."""
        with self.engine.connect() as c:
            found = secret_values.live(c, service, environment)
        secret_values.refuse_missing(service, environment, documents, found)

    def set_secret(
        self, service: str, environment: str, name: str, sealed: str, digest: str, actor: str
    ) -> tuple[records.Secret, list[str]]:
        """Store a sealed value (a new version) and republish what names it; answers the
        secret and the regions whose definitions changed."""
        self.service(service)
        with self._tx() as c:
            values = {"sealed": sealed, "digest": digest, "set_by": actor, "set_at": self.clock()}
            secret = secret_values.write(c, service, environment, name, values)
            regions = secret_values.republish(c, service, environment, lambda: self._next_seq(c))
            detail = {"version": secret.version, "digest": digest, "regions": regions}
            self._audit(c, actor, "secret.set", f"{service}/{environment}/{name}", detail)
        return secret, regions

    def unset_secret(
        self, service: str, environment: str, name: str, actor: str
    ) -> tuple[records.Secret, list[str]]:
        """Remove a value (its row stays, so versions never repeat) and republish."""
        self.service(service)
        with self._tx() as c:
            if name not in secret_values.live(c, service, environment):
                raise NotFound(f"{service} has no secret {name} in {environment}")
            values = {"sealed": None, "digest": None, "set_by": actor, "set_at": self.clock()}
            secret = secret_values.write(c, service, environment, name, values)
            regions = secret_values.republish(c, service, environment, lambda: self._next_seq(c))
            detail = {"version": secret.version, "regions": regions}
            self._audit(c, actor, "secret.unset", f"{service}/{environment}/{name}", detail)
        return secret, regions

    def set_node_state(self, region: str, datacenter: str, node: str, state: str, actor: str) -> int:
        """Mark a node ``failed`` or ``ready``; answers the change's seq (satellites see it)."""
        key = (
            (node_states.c.region == region)
            & (node_states.c.datacenter == datacenter)
            & (node_states.c.node == node)
        )
        with self._tx() as c:
            seq = self._next_seq(c)
            values = {"state": state, "seq": seq, "updated_by": actor, "updated_at": self.clock()}
            if c.execute(sa.select(node_states.c.state).where(key)).first() is None:
                c.execute(
                    node_states.insert().values(region=region, datacenter=datacenter, node=node, **values)
                )
            else:
                c.execute(node_states.update().where(key).values(**values))
            self._audit(c, actor, "node.set", f"{region}/{datacenter}/{node}", {"state": state, "seq": seq})
        return seq

    def cursor(self) -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(sa.select(counters.c.value).where(counters.c.name == "changes")).scalar_one()
            )

    # -- status -----------------------------------------------------------------------

    def report_status(
        self,
        region: str,
        reports: Sequence[records.Status],
        cursor: int,
        api: str | None = None,
        ingress: str | None = None,
    ) -> None:
        now = self.clock()
        with self._tx() as c:
            for report in reports:
                key = (
                    (statuses.c.region == region)
                    & (statuses.c.service == report.service)
                    & (statuses.c.environment == report.environment)
                )
                if c.execute(sa.select(statuses.c.region).where(key)).first() is None:
                    c.execute(
                        statuses.insert().values(
                            region=region,
                            service=report.service,
                            environment=report.environment,
                            report=report.report,
                            reported_at=now,
                        )
                    )
                else:
                    c.execute(statuses.update().where(key).values(report=report.report, reported_at=now))
            outcome_rows.record_reports(c, region, reports, now)
            if c.execute(sa.select(heartbeats.c.region).where(heartbeats.c.region == region)).first():
                c.execute(
                    heartbeats.update()
                    .where(heartbeats.c.region == region)
                    .values(seen_at=now, cursor=cursor, api=api, ingress=ingress)
                )
            else:
                c.execute(
                    heartbeats.insert().values(
                        region=region, seen_at=now, cursor=cursor, api=api, ingress=ingress
                    )
                )

    def heartbeats(self) -> dict[str, records.Heartbeat]:
        with self.engine.connect() as c:
            return {
                r.region: records.Heartbeat(r.region, r.seen_at, int(r.cursor), r.api, r.ingress)
                for r in c.execute(sa.select(heartbeats))
            }

    def published(self, environment: str) -> list[records.Published]:
        """Every region's current (non-removed) definition in ``environment``."""
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(definitions)
                .where(definitions.c.environment == environment, definitions.c.definition.is_not(None))
                .order_by(definitions.c.service, definitions.c.region)
            )
            # Tombstones are JSON null, which IS NOT NULL lets through: skip them here.
            return [
                records.Published(r.region, r.service, r.environment, r.revision, dict(r.definition), r.seq)
                for r in rows
                if r.definition is not None  # a JSON 'null' an older version stored for a removal
            ]

    def report_pop(self, pop: str, report: dict[str, Any]) -> None:
        now = self.clock()
        with self._tx() as c:
            if c.execute(sa.select(pop_statuses.c.pop).where(pop_statuses.c.pop == pop)).first() is None:
                c.execute(pop_statuses.insert().values(pop=pop, report=report, reported_at=now))
            else:
                c.execute(
                    pop_statuses.update()
                    .where(pop_statuses.c.pop == pop)
                    .values(report=report, reported_at=now)
                )

    def pop_statuses(self) -> list[records.PopStatus]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(pop_statuses).order_by(pop_statuses.c.pop))
            return [records.PopStatus(r.pop, dict(r.report), r.reported_at) for r in rows]

    def statuses(self, service: str | None = None) -> list[records.Status]:
        query = sa.select(statuses).order_by(statuses.c.service, statuses.c.environment, statuses.c.region)
        if service is not None:
            query = query.where(statuses.c.service == service)
        with self.engine.connect() as c:
            return [
                records.Status(r.service, r.environment, dict(r.report), r.region, r.reported_at)
                for r in c.execute(query)
            ]

    # -- alerts from Alertmanager ---------------------------------------------------------

    def record_alerts(self, delivered: Sequence[records.DeliveredAlert], actor: str) -> int:
        """Record a notification's alerts (see :mod:`taxiway.store.alert_rows`); answers how
        many changed state. Each change is audited, with the service's name as its target."""
        # Two deliveries of one new alert racing (PostgreSQL; SQLite serialises writers):
        # the loser's insert fails. Once more, it finds the row the winner wrote.
        for attempt in range(ALERT_ATTEMPTS):
            try:
                with self._tx() as c:
                    changed = alert_rows.record(c, delivered, self.clock())
                    for alert in changed:
                        self._audit(
                            c, actor, f"alert.{alert.status}", _alert_target(alert), _alert_detail(alert)
                        )
                return len(changed)
            except Conflict:
                if attempt == ALERT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def alerts(
        self, service: str | None, status: str | None = None, limit: int = ALERTS_LISTED
    ) -> list[records.Alert]:
        with self.engine.connect() as c:
            return alert_rows.listed(c, service, status, limit)

    # -- audit and tokens ---------------------------------------------------------------

    def audit_log(self, limit: int = 100) -> list[records.AuditEntry]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(audit).order_by(audit.c.id.desc()).limit(limit))
            return [records.AuditEntry(r.id, r.at, r.actor, r.action, r.target, dict(r.detail)) for r in rows]

    def create_token(
        self,
        name: str,
        scope: records.Scope,
        actor: str,
        services: Sequence[str] = (),
        region: str | None = None,
    ) -> str:
        """A new bearer token; the secret is returned once and only its hash is stored."""
        return self.issue_token(name, scope, actor, services, region)[1]

    def issue_token(
        self,
        name: str,
        scope: records.Scope,
        actor: str,
        services: Sequence[str] = (),
        bound: str | None = None,
    ) -> tuple[records.IssuedToken, str]:
        """A new token and its bearer string (``twy_<id>_<secret>``), which exists only in
        this answer: the store keeps the secret's SHA-256. ``bound`` is the region of a
        satellite token, the PoP of an edge token."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        issued = records.IssuedToken(
            token_id, name, scope, tuple(services), bound, created_at=self.clock(), created_by=actor
        )
        with self._tx() as c:
            token_rows.insert(c, issued, _hash(secret))
            detail = {"name": name, "scope": scope, "services": list(services), "bound": bound}
            self._audit(c, actor, "token.create", f"token:{token_id}", detail)
        return issued, f"twy_{token_id}_{secret}"

    def tokens(self) -> list[records.IssuedToken]:
        """Every token, revoked ones included (never a secret or its hash)."""
        with self.engine.connect() as c:
            return token_rows.listed(c)

    def authenticate(self, bearer: str) -> records.Token | None:
        """The token a bearer string stands for, or None. Constant-time comparison.

        Read from the database on every call, never cached: a revoked token is refused
        from the next request on."""
        parts = bearer.split("_", 2)
        if len(parts) != 3 or parts[0] != "twy":
            return None
        _, token_id, secret = parts
        with self.engine.connect() as c:
            row = c.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        return records.Token(row.id, row.name, row.scope, tuple(row.services), row.region)

    def revoke_token(self, token_id: str, actor: str) -> records.IssuedToken:
        """Revoke a token at once (see :mod:`taxiway.store.token_rows`); revoking one that
        already is answers it unchanged. :class:`NotFound` for an unknown id."""
        with self._tx() as c:
            revoked, changed = token_rows.revoke(c, token_id, self.clock())
            if changed:
                detail = {"name": revoked.name, "scope": revoked.scope}
                self._audit(c, actor, "token.revoke", f"token:{token_id}", detail)
        return revoked


def _put_definition(
    c: sa.Connection, key: tuple[str, str, str], values: Mapping[str, Any], *, new: bool
) -> None:
    """Write one regional definition row, keyed by (region, service, environment)."""
    region, service, environment = key
    if new:
        c.execute(
            definitions.insert().values(region=region, service=service, environment=environment, **values)
        )
        return
    c.execute(
        definitions.update()
        .where(
            definitions.c.region == region,
            definitions.c.service == service,
            definitions.c.environment == environment,
        )
        .values(**values)
    )


def _revision(row: Any) -> records.Revision:
    return records.Revision(
        service=row.service,
        number=row.number,
        digest=row.digest,
        definitions=dict(row.definitions),
        created_by=row.created_by,
        created_at=row.created_at,
        artifact=row.artifact,
        pruned_at=row.pruned_at,
    )


def _desired(row: Any) -> records.Desired:
    return records.Desired(
        row.service, row.environment, row.revision, row.version, row.updated_by, row.updated_at
    )


def _alert_target(alert: records.DeliveredAlert) -> str:
    return f"service:{alert.service}" if alert.service else f"alert:{alert.fingerprint}"


def _alert_detail(alert: records.DeliveredAlert) -> dict[str, Any]:
    labels = alert.labels
    return {
        "fingerprint": alert.fingerprint,
        "alertname": labels.get("alertname", ""),
        "service": labels.get("service"),
        "environment": labels.get("environment"),
        "region": labels.get("region"),
        "severity": labels.get("severity"),
        "starts_at": alert.starts_at.isoformat(),
        "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
    }
