"""Deep merge of YAML-shaped data: how overlays and overrides combine with a base.

Mappings merge key by key; anything else (lists included) is replaced whole, so an
overlay's ``regions`` list means exactly that list. A ``null`` in the overlay removes the
key, returning the field to its default.
"""

from __future__ import annotations

from typing import Any


def deep_merge(base: Any, overlay: Any) -> Any:
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
