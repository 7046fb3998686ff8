"""The store's tables, as SQLAlchemy Core metadata (the migrations create the same).

Design notes:
- ``revisions`` are immutable: a row is written once and never updated, except when the
  service's retention prunes it (``pruned_at``; its definitions emptied, its artifact
  deleted once no kept revision uses it; see :mod:`taxiway.plan.retention`).
- ``desired`` and ``services`` carry a ``version`` for optimistic concurrency.
- ``services`` is the inventory: rows seeded from the inventory file (``origin`` ``file``)
  and rows registered or changed through the API (``origin`` ``api``, which the file no
  longer overrides); a deleted service keeps its row (and its revisions) with ``deleted_at``.
- ``environment_outcomes`` and ``region_outcomes`` record what became of each revision in
  each environment: when it was deployed and left (rolled back or superseded), and per
  region the last word of the satellite's reports about it (ready, failed and why) and
  when it first became ready. ``rollback`` chooses from them.
- ``definitions`` holds, per region, the current regional definition of each
  service+environment, stamped with a ``seq`` from the single ``counters`` row. Taking
  that row's lock makes writers commit in seq order, so a satellite reading "everything
  after seq N" can never skip a change that commits late.
- secrets never reach the store in plain text: secret env values in revisions, and the
  values of ``secrets`` (``taxiway secrets set``), are sealed with the control plane's key
  (``taxiway.sealing``), and tokens are stored as SHA-256 hashes of high-entropy secrets.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NULLABLE_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
"""Python ``None`` is SQL NULL here, never the JSON text ``null`` (which ``IS NULL`` misses)."""
Timestamp = sa.DateTime(timezone=True)

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("continent", sa.String(63), nullable=False),
    sa.Column("driver", sa.String(32), nullable=False),
)

services = sa.Table(
    "services",
    metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("entry", JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("origin", sa.String(8), nullable=False, server_default="file"),
    sa.Column("deleted_at", Timestamp, nullable=True),
)

revisions = sa.Table(
    "revisions",
    metadata,
    sa.Column("service", sa.String(63), sa.ForeignKey("services.name"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(80), nullable=False),
    sa.Column("definitions", JSON, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("artifact", sa.String(80), nullable=True),
    # Set when the service's retention pruned it: definitions emptied, artifact released.
    sa.Column("pruned_at", Timestamp, nullable=True),
)

# The service's files uploaded with a revision (tar.gz), content-addressed and immutable.
artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("digest", sa.String(80), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

desired = sa.Table(
    "desired",
    metadata,
    sa.Column("service", sa.String(63), sa.ForeignKey("services.name"), primary_key=True),
    sa.Column("environment", sa.String(32), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

definitions = sa.Table(
    "definitions",
    metadata,
    sa.Column("region", sa.String(63), primary_key=True),
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Column("environment", sa.String(32), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    # NULL: removed by an explicit, versioned change (a tombstone satellites must see).
    sa.Column("definition", NULLABLE_JSON, nullable=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Index("ix_definitions_seq", "seq"),
)

# Platform secrets by service, environment and name. ``version`` counts every set and
# unset; an unset keeps the row with ``sealed`` and ``digest`` NULL, so versions never repeat.
secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("service", sa.String(63), sa.ForeignKey("services.name"), primary_key=True),
    sa.Column("environment", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sealed", sa.Text, nullable=True),
    sa.Column("digest", sa.String(80), nullable=True),
    sa.Column("set_by", sa.String(128), nullable=False),
    sa.Column("set_at", Timestamp, nullable=False),
)

statuses = sa.Table(
    "statuses",
    metadata,
    sa.Column("region", sa.String(63), primary_key=True),
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Column("environment", sa.String(32), primary_key=True),
    sa.Column("report", JSON, nullable=False),
    sa.Column("reported_at", Timestamp, nullable=False),
)

heartbeats = sa.Table(
    "heartbeats",
    metadata,
    sa.Column("region", sa.String(63), primary_key=True),
    sa.Column("seen_at", Timestamp, nullable=False),
    sa.Column("cursor", sa.BigInteger, nullable=False),
    sa.Column("api", sa.String(256), nullable=True),
    sa.Column("ingress", sa.String(256), nullable=True),
)

# The latest report of each edge PoP: pools, health, measured RTT, which one serves.
pop_statuses = sa.Table(
    "pop_statuses",
    metadata,
    sa.Column("pop", sa.String(63), primary_key=True),
    sa.Column("report", JSON, nullable=False),
    sa.Column("reported_at", Timestamp, nullable=False),
)

# Nodes an operator marked failed (``taxiway chaos node-down``); ``seq`` as for definitions.
node_states = sa.Table(
    "node_states",
    metadata,
    sa.Column("region", sa.String(63), primary_key=True),
    sa.Column("datacenter", sa.String(63), primary_key=True),
    sa.Column("node", sa.String(63), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(256), nullable=False),
    sa.Column("detail", JSON, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("services", JSON, nullable=False),
    sa.Column("region", sa.String(63), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    # NULL only for a token whose creation the audit log does not name (see migration 0005).
    sa.Column("created_by", sa.String(128), nullable=True),
    sa.Column("revoked_at", Timestamp, nullable=True),
)

# Each time an environment was pointed at a revision, and when (and for which) it left it.
environment_outcomes = sa.Table(
    "environment_outcomes",
    metadata,
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Column("environment", sa.String(32), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("deployed_at", Timestamp, nullable=False),
    sa.Column("deployed_by", sa.String(128), nullable=False),
    sa.Column("left_at", Timestamp, nullable=True),
    sa.Column("left_for", sa.Integer, nullable=True),
    # Left for an older revision: someone rolled back from it.
    sa.Column("rolled_back", sa.Boolean, nullable=False),
)

# The latest verdict of a region's reports on a revision it was asked to run.
region_outcomes = sa.Table(
    "region_outcomes",
    metadata,
    sa.Column("service", sa.String(63), primary_key=True),
    sa.Column("environment", sa.String(32), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("region", sa.String(63), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("ready_at", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# Alerts Alertmanager delivered (``POST /v1/alerts``), one row per firing of an alert:
# its fingerprint and start time. A resolved row stays resolved; ``service`` is NULL for
# an alert whose ``service`` label names no service of the inventory (or has none).
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("starts_at", Timestamp, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("service", sa.String(63), nullable=True),
    sa.Column("labels", JSON, nullable=False),
    sa.Column("annotations", JSON, nullable=False),
    sa.Column("ends_at", Timestamp, nullable=True),
    sa.Column("generator_url", sa.Text, nullable=False),
    sa.Column("owner", sa.String(1024), nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index("ix_alerts_service_status", "service", "status"),
)
