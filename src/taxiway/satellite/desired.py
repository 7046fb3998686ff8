"""From a local-store entry to a :class:`~taxiway.plan.region.reconcile.Desired` this machine can run.

Two steps, kept apart because they change at different times: :func:`parse` validates the
stored definition (once per change of the entry; it is the costly part), and
:func:`resolve` finds the service directory its instances start in (on every reload, as
artifacts arrive): the extracted artifact if the revision has one, else
``<services_root>/<service>``. What cannot be found is said plainly in ``waiting`` (the
artifact is on its way) or ``problem`` (it can never run as stored).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pydantic

from taxiway.plan import regional
from taxiway.plan.region import reconcile
from taxiway.satellite import artifacts, localstore


def parse(entry: localstore.Entry, region: str) -> regional.RegionalDefinition | str:
    """The entry's definition as a model (revision filled in), or what is wrong with it."""
    if entry.problem is not None:
        return entry.problem
    assert entry.definition is not None
    try:
        definition = regional.RegionalDefinition.model_validate(entry.definition, strict=False)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"the definition is not valid: {where}: {first['msg']}"
    if (definition.service, definition.environment) != entry.key or definition.region != region:
        return (
            f"the definition is for {definition.service}/{definition.environment} in {definition.region}, "
            f"not {entry.service}/{entry.environment} in {region}"
        )
    if definition.revision != entry.revision:
        definition = definition.model_copy(update={"revision": entry.revision})
    return definition


def resolve(
    entry: localstore.Entry,
    parsed: regional.RegionalDefinition | str | None,
    cache: artifacts.ArtifactCache,
    services_root: Path | None,
) -> reconcile.Desired:
    """``parsed`` is :func:`parse`'s answer for the entry (``None`` for a tombstone)."""
    base = reconcile.Desired(entry.service, entry.environment, entry.revision)
    if entry.definition is None:
        return replace(base, removed=True)
    if isinstance(parsed, str) or parsed is None:
        return replace(base, problem=parsed or "the definition is missing")
    found = replace(base, definition=parsed)
    if entry.artifact is not None:
        if cache.present(entry.artifact):
            return replace(found, service_dir=cache.directory(entry.artifact))
        rejected = cache.rejection(entry.artifact)
        if rejected is not None:
            return replace(found, problem=rejected)
        return replace(found, waiting=f"waiting for artifact {entry.artifact}")
    if services_root is None:
        return replace(
            found, problem="the revision has no artifact and this satellite has no --services-root"
        )
    directory = services_root / entry.service
    if not directory.is_dir():
        return replace(found, problem=f"the revision has no artifact and {directory} is not a directory")
    return replace(found, service_dir=directory)
