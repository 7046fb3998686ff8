"""How Prometheus rule files spell values: Go's floats, Prometheus's durations, label matchers.

Sloth renders its rules with Go's ``fmt`` and Prometheus's ``model`` packages; a rule file
that Sloth's dashboards and a team's existing alerts must recognise has to spell each value
the same way, byte for byte. :mod:`taxiway.plan.observability.sloth` is the caller. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

# Prometheus's duration units, largest first, in milliseconds (``model.Duration.String``),
# and whether the unit is used only when it divides the duration exactly (``90d``, not
# ``12w6d``).
_DURATION_UNITS = (
    ("y", 365 * 86_400_000, True),
    ("w", 7 * 86_400_000, True),
    ("d", 86_400_000, False),
    ("h", 3_600_000, False),
    ("m", 60_000, False),
    ("s", 1000, False),
    ("ms", 1, False),
)


def duration(milliseconds: int) -> str:
    """A duration as Prometheus prints it: ``300000`` → ``5m``, 28 days → ``4w``, 30 days →
    ``30d``, 0 → ``0s``."""
    if milliseconds == 0:
        return "0s"
    text, left = "", milliseconds
    for unit, size, exact in _DURATION_UNITS:
        if exact and left % size:
            continue
        count, left = divmod(left, size)
        if count:
            text += f"{count}{unit}"
    return text


def _shortest(value: float) -> tuple[str, int]:
    """The shortest digits that read back as ``value`` and the decimal exponent of the first."""
    _sign, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    return text, len(digits) + exponent - 1


def go_g(value: float) -> str:
    """``value`` as Go's ``%g``/``%v`` prints a float64: the shortest digits that read back
    exactly, in exponent form below 1e-4 or from 1e6 on (``0.9990000000000001``, ``14.4``,
    ``30``, ``1e-05``, ``1e+06``)."""
    if value == 0:
        return "0"
    digits, exponent = _shortest(value)
    sign = "-" if value < 0 else ""
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return sign + _fixed(digits, exponent)


def go_fixed(value: float) -> str:
    """``value`` as Go's ``strconv.FormatFloat(v, 'f', -1, 64)``: shortest digits, never an
    exponent (``99.9``, ``99``, ``0.00001``)."""
    if value == 0:
        return "0"
    digits, exponent = _shortest(value)
    return ("-" if value < 0 else "") + _fixed(digits, exponent)


def _fixed(digits: str, exponent: int) -> str:
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    whole, fraction = digits[: exponent + 1], digits[exponent + 1 :]
    return whole.ljust(exponent + 1, "0") + (f".{fraction}" if fraction else "")


def quoted(text: str) -> str:
    """A label value as Go's ``%q`` quotes it (JSON's quoting agrees for printable text)."""
    return json.dumps(text, ensure_ascii=False)


def matchers(labels: Mapping[str, str]) -> str:
    """Equality matchers as Prometheus's ``LabelSet.String`` prints them: sorted by name,
    ``{a="1", b="2"}``."""
    return "{" + ", ".join(f"{name}={quoted(labels[name])}" for name in sorted(labels)) + "}"
