"""Quantities users write as text: durations (``30s``), memory (``512Mi``), CPU (``500m``), times.

Each is an annotated pydantic type that accepts the text form (or a plain number), stores
one canonical number, and prints back one canonical text, so two manifests that mean the
same thing derive the same bytes. The JSON Schema of each carries the same pattern the
parser enforces, so editors and ``check-jsonschema`` reject what Taxiway rejects.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)$"
MEMORY_PATTERN = r"^[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?$"
CPU_PATTERN = r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$"

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Longest duration anything in a manifest may take: SLO windows reach a year, no more.
MAX_DURATION_SECONDS = 366 * 86400
_MEMORY_UNITS = {
    "": 1,
    "K": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


_DURATION_EXPECTED = "expected a duration such as 30s, 250ms, 5m, 1h or 28d"
TIME_EXPECTED = "expected an RFC 3339 time such as 2026-12-01T09:10:00Z"


def parse_time(value: str) -> datetime.datetime:
    """An RFC 3339 time (``2026-12-01T09:10:00Z``, ``…+01:00``): its offset is required,
    since a time without one means something else on every machine. ``ValueError`` otherwise."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(TIME_EXPECTED) from None
    if moment.tzinfo is None:
        raise ValueError(TIME_EXPECTED)
    return moment


def parse_duration(value: Any) -> float:
    """``"1.5s"`` -> 1.5; a bare number is seconds. Raises ``ValueError`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(_DURATION_EXPECTED)
    if isinstance(value, int | float):
        seconds = _finite(value, _DURATION_EXPECTED)
    elif isinstance(value, str) and re.fullmatch(DURATION_PATTERN, value):
        number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", value).groups()  # type: ignore[union-attr]
        seconds = _finite(number, _DURATION_EXPECTED) * _DURATION_UNITS[unit]
    else:
        raise ValueError(_DURATION_EXPECTED)
    # Durations are kept to the millisecond; round first, so nothing under 1ms becomes 0.
    seconds = round(seconds, 3)
    if not 0 < seconds <= MAX_DURATION_SECONDS:
        raise ValueError("expected a duration of at least 1ms and at most 366d")
    return seconds


def _finite(value: int | float | str, message: str) -> float:
    """``float(value)``, refusing NaN, infinities and integers too large for a float."""
    try:
        number = float(value)
    except (OverflowError, ValueError):
        raise ValueError(message) from None
    if not math.isfinite(number):
        raise ValueError(message)
    return number


def format_duration(seconds: float) -> str:
    """The shortest exact text for a duration: 90 -> ``90s``, 0.25 -> ``250ms``."""
    millis = round(seconds * 1000)
    if millis % 1000:
        return f"{millis}ms"
    whole = millis // 1000
    if whole % 86400 == 0:
        return f"{whole // 86400}d"
    if whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s"


def parse_memory(value: Any) -> int:
    """``"512Mi"`` -> bytes; a bare integer is bytes. Raises ``ValueError`` otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and re.fullmatch(MEMORY_PATTERN, value):
        number, unit = re.fullmatch(r"([0-9]+)([A-Za-z]*)", value).groups()  # type: ignore[union-attr]
        size = int(number) * _MEMORY_UNITS[unit]
    else:
        raise ValueError("expected a memory size such as 512Mi, 2Gi or 1G")
    if size <= 0:
        raise ValueError("expected a memory size above 0")
    return size


def format_memory(size: int) -> str:
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        factor = _MEMORY_UNITS[unit]
        if size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def parse_cpu(value: Any) -> int:
    """CPU in millicores: ``"500m"`` -> 500, ``1.5`` -> 1500."""
    if isinstance(value, bool):
        raise ValueError("expected CPU such as 1, 0.5 or 500m")
    if isinstance(value, int) and not isinstance(value, bool):
        millis = value * 1000
    elif isinstance(value, float):
        millis = round(_finite(value * 1000, "expected CPU such as 1, 0.5 or 500m"))
    elif isinstance(value, str) and re.fullmatch(CPU_PATTERN, value):
        millis = int(value[:-1]) if value.endswith("m") else round(float(value) * 1000)
    else:
        raise ValueError("expected CPU such as 1, 0.5 or 500m")
    if millis <= 0:
        raise ValueError("expected CPU above 0")
    return millis


def format_cpu(millis: int) -> str:
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _number_or(pattern: str, description: str, *, integer: bool = False) -> WithJsonSchema:
    number: dict[str, Any] = {"type": "integer" if integer else "number", "exclusiveMinimum": 0}
    return WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": pattern}, number], "description": description}
    )


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    _number_or(DURATION_PATTERN, "A duration: 250ms, 30s, 5m, 1h, 28d, or a number of seconds."),
]
Memory = Annotated[
    int,
    BeforeValidator(parse_memory),
    PlainSerializer(format_memory, return_type=str),
    _number_or(MEMORY_PATTERN, "Memory: 512Mi, 2Gi, 1G, or a number of bytes.", integer=True),
]
Cpu = Annotated[
    int,
    BeforeValidator(parse_cpu),
    PlainSerializer(format_cpu, return_type=str),
    _number_or(CPU_PATTERN, "CPU: 1, 0.5 or 500m (millicores)."),
]
