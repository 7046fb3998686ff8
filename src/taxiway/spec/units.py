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

# Longest duration anything in a manifest may take: SLO windows reach a year, no more.
MAX_DURATION_SECONDS = 366 * 86400
MIN_DURATION_SECONDS = 0.001
# Milliseconds in each unit; a duration is kept to the millisecond.
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION_TEXT = r"^([0-9]+(\.[0-9]+)?)(ms|s|m|h|d)$"
"""How a duration is spelt; :data:`DURATION_PATTERN` also holds it to its bounds."""

_NONZERO_FRACTION = r"0+\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])"
"""0.001 to 0.999 with at most three decimals: a number below 1 that is not zero."""


def _digits(low: int, high: int) -> str:
    return str(low) if low == high else f"[{low}-{high}]"


def _below(limit: int) -> str:
    """Alternatives matching the whole numbers 1 to ``limit - 1``, leading zeros stripped."""
    text = str(limit)
    options = []
    if len(text) > 1:
        options.append("[1-9]" + (f"[0-9]{{0,{len(text) - 2}}}" if len(text) > 2 else ""))
    for index, digit in enumerate(text):
        low = 1 if index == 0 else 0
        if int(digit) > low:
            rest = len(text) - index - 1
            tail = "" if not rest else "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
            options.append(text[:index] + _digits(low, int(digit) - 1) + tail)
    return "|".join(options)


def _amount(unit: str) -> str:
    """Numbers of ``unit`` from 1ms to 366d, with at most three decimals."""
    limit = MAX_DURATION_SECONDS * 1000 // _DURATION_UNITS[unit]
    options = [f"0*(?:{_below(limit)})(?:\\.[0-9]{{1,3}})?", f"0*{limit}(?:\\.0{{1,3}})?"]
    if unit != "ms":  # a fraction of a second or more is at least a millisecond
        options.append(_NONZERO_FRACTION)
    return f"(?:{'|'.join(options)}){unit}"


DURATION_PATTERN = f"^(?:{'|'.join(_amount(unit) for unit in _DURATION_UNITS)})$"
"""A duration from 1ms to 366d in a unit, with at most three decimals: what
:func:`parse_duration` accepts as text, so the JSON Schema accepts no more."""
MEMORY_PATTERN = r"^0*[1-9][0-9]*(Ki|Mi|Gi|Ti|K|M|G|T)?$"
CPU_PATTERN = rf"^(0*[1-9][0-9]*m|0*[1-9][0-9]*(\.[0-9]{{1,3}})?|{_NONZERO_FRACTION})$"
MIN_CPU = 0.0005
"""CPU as a number must be above this: less rounds to 0 millicores."""
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
    """``"1.5s"`` -> 1.5; a bare number is seconds. Raises ``ValueError`` otherwise.

    From 1ms to 366d, bounds checked before the value is kept to the millisecond; text
    takes at most three decimals (``1.5s``, ``0.25m``), as :data:`DURATION_PATTERN` says.
    """
    if isinstance(value, bool):
        raise ValueError(_DURATION_EXPECTED)
    if isinstance(value, int | float):
        seconds = _finite(value, _DURATION_EXPECTED)
    elif isinstance(value, str) and (spelt := re.fullmatch(_DURATION_TEXT, value)):
        number, _, unit = spelt.groups()
        # Dividing by 1000 (not multiplying by 0.001) keeps 31622400000ms exactly 366d.
        seconds = _finite(number, _DURATION_EXPECTED) * _DURATION_UNITS[unit] / 1000
    else:
        raise ValueError(_DURATION_EXPECTED)
    if not MIN_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS:
        raise ValueError("expected a duration of at least 1ms and at most 366d")
    if isinstance(value, str) and not re.fullmatch(DURATION_PATTERN, value):
        raise ValueError("expected at most three decimals, such as 1.5s or 0.25m")
    return round(seconds, 3)


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
    if isinstance(value, float) and value.is_integer():  # 536870912.0: an integer to JSON Schema too
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and re.fullmatch(MEMORY_PATTERN, value):
        number, unit = re.fullmatch(r"([0-9]+)([A-Za-z]*)", value).groups()  # type: ignore[union-attr]
        size = int(number) * _MEMORY_UNITS[unit]
    elif isinstance(value, str) and re.fullmatch(r"0+[A-Za-z]*", value):
        size = 0
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
        if value > MIN_CPU:  # the schema's bound: above it, at least 1 millicore
            millis = max(millis, 1)
    elif isinstance(value, str) and re.fullmatch(CPU_PATTERN, value):
        millis = int(value[:-1]) if value.endswith("m") else round(float(value) * 1000)
    elif isinstance(value, str) and re.fullmatch(r"0+(m|\.0{1,3})?", value):
        millis = 0
    else:
        raise ValueError("expected CPU such as 1, 0.5 or 500m")
    if millis <= 0:
        raise ValueError("expected CPU above 0")
    return millis


def format_cpu(millis: int) -> str:
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _number_or(pattern: str, description: str, number: dict[str, Any]) -> WithJsonSchema:
    return WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": pattern}, number], "description": description}
    )


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    _number_or(
        DURATION_PATTERN,
        "A duration from 1ms to 366d: 250ms, 30s, 5m, 1h, 28d, or a number of seconds.",
        {"type": "number", "minimum": MIN_DURATION_SECONDS, "maximum": MAX_DURATION_SECONDS},
    ),
]
Memory = Annotated[
    int,
    BeforeValidator(parse_memory),
    PlainSerializer(format_memory, return_type=str),
    _number_or(
        MEMORY_PATTERN,
        "Memory: 512Mi, 2Gi, 1G, or a number of bytes.",
        {"type": "integer", "exclusiveMinimum": 0},
    ),
]
Cpu = Annotated[
    int,
    BeforeValidator(parse_cpu),
    PlainSerializer(format_cpu, return_type=str),
    _number_or(
        CPU_PATTERN, "CPU: 1, 0.5 or 500m (millicores).", {"type": "number", "exclusiveMinimum": MIN_CPU}
    ),
]
