"""Per-region overrides: a spec with one region's ``overrides`` entries merged over it.

Only the fields an override actually sets are applied (not the defaults pydantic fills
in), deep-merged in file order, and the result is validated as a whole spec again, so an
override cannot produce a spec that would have been rejected if written out by hand.
"""

from __future__ import annotations

from typing import Any

from taxiway.spec.manifest import Spec
from taxiway.spec.merge import deep_merge


def naming(spec: Spec, region: str) -> tuple[int, ...]:
    """Indices of the overrides that name ``region``, in file order."""
    return tuple(
        index
        for index, override in enumerate(spec.overrides)
        if region in override.regions  # type: ignore[attr-defined]
    )


def overrides_for(spec: Spec, region: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, fields it sets) for each override naming ``region``, in file order."""
    found = []
    for index in naming(spec, region):
        patch = spec.overrides[index].model_dump(mode="json", by_alias=True, exclude_unset=True)
        patch.pop("regions", None)
        found.append((index, patch))
    return found


def merged(spec: Spec, region: str) -> dict[str, Any]:
    """The spec as ``region`` sees it, as plain data before validation."""
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude={"overrides"})
    for _, patch in overrides_for(spec, region):
        data = deep_merge(data, patch)
    return data


def apply(spec: Spec, region: str) -> Spec:
    """The spec as ``region`` sees it. Raises ``pydantic.ValidationError`` if invalid."""
    if not overrides_for(spec, region):
        return spec.model_copy(update={"overrides": []})
    return Spec.model_validate(merged(spec, region))
