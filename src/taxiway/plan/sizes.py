"""Byte counts for people: ``205 KiB``, ``1.5 MiB``, ``512 MiB``."""

from __future__ import annotations

UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def shown_bytes(count: int) -> str:
    """``count`` in the largest binary unit it reaches, one decimal below 10."""
    value = float(count)
    unit = 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{count} bytes"
    return f"{value:.1f} {UNITS[unit]}" if value < 10 else f"{value:.0f} {UNITS[unit]}"
