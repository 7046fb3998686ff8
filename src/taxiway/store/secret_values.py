"""Platform secrets (``taxiway secrets set``) in the definitions the control plane publishes.

A manifest names its secrets (``spec.secrets: [NAME]``); their values live in the
``secrets`` table, sealed, per service and environment. What a region is sent is the
revision's regional definition with each named secret added to ``spec.env`` in the shape
of every other secret env value: ``{"secret": true, "digest": <keyed>, "sealed": ...}``
(the feed unseals it for the region's own satellite only, as it does the others). The
digest is part of the definition, so setting or unsetting a value changes what the
region runs and its instances roll.

:class:`~taxiway.store.sql.SqlStore` calls these inside its own transactions: when an
environment is pointed at a revision (which is refused while a named secret has no value)
and when a value is set or unset (which republishes the definitions that name it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from taxiway.errors import ValidationFailed
from taxiway.spec.problem import Location, Problem
from taxiway.store import records
from taxiway.store.tables import definitions, revisions, secrets


def named(document: Mapping[str, Any]) -> list[str]:
    """The secret names a regional definition (JSON) asks for."""
    spec = document.get("spec")
    found = spec.get("secrets") if isinstance(spec, Mapping) else None
    return [str(name) for name in found] if isinstance(found, list) else []


def with_values(document: Mapping[str, Any], found: Mapping[str, records.Secret]) -> dict[str, Any]:
    """``document`` with every named secret that has a value added to its env, sealed."""
    result = copy.deepcopy(dict(document))
    names = named(result)
    if not names:
        return result
    env = result["spec"].setdefault("env", {})
    for name in names:
        secret = found.get(name)
        if secret is not None and secret.live:
            env[name] = {"secret": True, "digest": secret.digest, "sealed": secret.sealed}
    return result


def refuse_missing(
    service: str,
    environment: str,
    documents: Iterable[Mapping[str, Any]],
    found: Mapping[str, records.Secret],
) -> None:
    """Raise :class:`ValidationFailed` naming each secret the documents ask for without a value."""
    order: list[str] = []
    for document in documents:
        order.extend(name for name in named(document) if name not in order)
    missing = [(index, name) for index, name in enumerate(order) if not (name in found and found[name].live)]
    if not missing:
        return
    raise ValidationFailed(
        [
            Problem(
                Location(".taxiway/service.yaml"),
                ("spec", "secrets", index),
                f"secret {name} has no value in {environment}; nothing was changed",
                hint=f"set it with `taxiway secrets set {service} {name} --env {environment}` "
                "(the value from stdin or --from-file)",
            )
            for index, name in missing
        ]
    )


def _secret(row: Any) -> records.Secret:
    return records.Secret(
        row.service, row.environment, row.name, row.version, row.digest, row.set_by, row.set_at, row.sealed
    )


def read(c: sa.Connection, service: str, environment: str | None = None) -> list[records.Secret]:
    """Every secret row of ``service`` (in ``environment``), unset ones included."""
    query = sa.select(secrets).where(secrets.c.service == service)
    if environment is not None:
        query = query.where(secrets.c.environment == environment)
    rows = c.execute(query.order_by(secrets.c.environment, secrets.c.name))
    return [_secret(r) for r in rows]


def live(c: sa.Connection, service: str, environment: str) -> dict[str, records.Secret]:
    return {s.name: s for s in read(c, service, environment) if s.live}


def write(
    c: sa.Connection,
    service: str,
    environment: str,
    name: str,
    values: Mapping[str, Any],
) -> records.Secret:
    """Insert or update one row (``values``: sealed, digest, set_by, set_at); the version
    goes up by one on every write."""
    key = (secrets.c.service == service) & (secrets.c.environment == environment) & (secrets.c.name == name)
    version = c.execute(sa.select(secrets.c.version).where(key)).scalar()
    if version is None:
        c.execute(
            secrets.insert().values(service=service, environment=environment, name=name, version=1, **values)
        )
    else:
        c.execute(secrets.update().where(key).values(version=int(version) + 1, **values))
    return _secret(c.execute(sa.select(secrets).where(key)).one())


def republish(c: sa.Connection, service: str, environment: str, next_seq: Callable[[], int]) -> list[str]:
    """Publish again every region's definition of ``service`` in ``environment`` whose secret
    values changed; answers those regions (their satellites then roll the instances)."""
    seq = next_seq()  # first: the counter's lock orders this write among the others
    found = live(c, service, environment)
    rows = c.execute(
        sa.select(definitions).where(
            definitions.c.service == service,
            definitions.c.environment == environment,
            definitions.c.definition.is_not(None),
        )
    ).all()
    changed = []
    for row in rows:
        stored = c.execute(
            sa.select(revisions.c.definitions).where(
                revisions.c.service == service, revisions.c.number == row.revision
            )
        ).scalar()
        source = (stored or {}).get(environment, {}).get(row.region)
        if source is None or not named(source):
            continue
        document = with_values(source, found)
        if document == row.definition:
            continue
        c.execute(
            definitions.update()
            .where(
                definitions.c.region == row.region,
                definitions.c.service == service,
                definitions.c.environment == environment,
            )
            .values(definition=document, seq=seq)
        )
        changed.append(row.region)
    return sorted(changed)
