"""Durations, memory and CPU: the text users write, one canonical number, one canonical text."""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxiway.spec import units


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("1.5s", 1.5),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("28d", 2419200.0),
        (90, 90.0),
    ],
)
def test_parse_duration(text: Any, seconds: float) -> None:
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad",
    [
        "30",
        "30sec",
        "1w",
        "-1s",
        "0s",
        "0.0004s",
        "367d",
        "",
        True,
        None,
        [],
        math.nan,
        math.inf,
        -5,
        10**400,
        "9" * 400 + "d",
    ],
)
def test_parse_duration_rejects(bad: Any) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        units.parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "250ms"),
        (1.5, "1500ms"),
        (30, "30s"),
        (90, "90s"),
        (300, "5m"),
        (7200, "2h"),
        (86400 * 28, "28d"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert units.format_duration(seconds) == text
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [("512Mi", 512 * 1024**2), ("2Gi", 2 * 1024**3), ("1G", 10**9), ("1K", 1000), (4096, 4096)],
)
def test_parse_memory(text: Any, size: int) -> None:
    assert units.parse_memory(text) == size


@pytest.mark.parametrize("bad", ["512MB", "512mi", "1.5Gi", "0", 0, -1, 1.5, True, "Gi", ""])
def test_parse_memory_rejects(bad: Any) -> None:
    with pytest.raises(ValueError, match="memory size"):
        units.parse_memory(bad)


@pytest.mark.parametrize(
    ("size", "text"), [(512 * 1024**2, "512Mi"), (1024**3, "1Gi"), (1500, "1500"), (10**9, "1000000000")]
)
def test_format_memory_round_trips(size: int, text: str) -> None:
    assert units.format_memory(size) == text
    assert units.parse_memory(text) == size


@pytest.mark.parametrize(
    ("text", "millis"), [("500m", 500), ("1", 1000), ("0.5", 500), (2, 2000), (0.25, 250), ("1.125", 1125)]
)
def test_parse_cpu(text: Any, millis: int) -> None:
    assert units.parse_cpu(text) == millis


@pytest.mark.parametrize(
    "bad", ["0", "0m", "1.2345", "1 core", "-1", 0, -1, True, math.nan, math.inf, 1e308, None]
)
def test_parse_cpu_rejects(bad: Any) -> None:
    with pytest.raises(ValueError, match="CPU"):
        units.parse_cpu(bad)


@pytest.mark.parametrize(("millis", "text"), [(500, "500m"), (1000, "1"), (1500, "1500m"), (4000, "4")])
def test_format_cpu_round_trips(millis: int, text: str) -> None:
    assert units.format_cpu(millis) == text
    assert units.parse_cpu(text) == millis


def test_times_are_rfc_3339_with_an_offset() -> None:
    expected = datetime.datetime(2026, 12, 1, 9, 10, tzinfo=datetime.UTC)
    assert units.parse_time("2026-12-01T09:10:00Z") == expected
    assert units.parse_time("2026-12-01T10:10:00+01:00") == expected
    for bad in ("2026-12-01T09:10:00", "tomorrow", ""):
        with pytest.raises(ValueError, match="RFC 3339"):
            units.parse_time(bad)


# -- the JSON Schema's patterns accept exactly what the parsers do ------------------------------

_LEADING_ZEROS = st.text("0", max_size=2)


def _accepts(parse: Any, value: Any) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


@st.composite
def _spelt_durations(draw: st.DrawFn) -> str:
    """Any number and unit, around the bounds: 0, under 1ms, 366d, over it, many decimals."""
    unit = draw(st.sampled_from(["ms", "s", "m", "h", "d"]))
    limit = (
        units.MAX_DURATION_SECONDS
        * 1000
        // {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[unit]
    )
    whole = draw(st.one_of(st.integers(0, 3), st.integers(limit - 2, limit + 2), st.integers(0, 10 * limit)))
    fraction = draw(
        st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=5).map(lambda f: "." + f))
    )
    return f"{draw(_LEADING_ZEROS)}{whole}{fraction}{unit}"


_SPELT: dict[str, tuple[str, Any, st.SearchStrategy[str]]] = {
    "duration": (units.DURATION_PATTERN, units.parse_duration, _spelt_durations()),
    "memory": (
        units.MEMORY_PATTERN,
        units.parse_memory,
        st.builds(
            lambda zeros, number, unit: f"{zeros}{number}{unit}",
            _LEADING_ZEROS,
            st.integers(0, 3) | st.integers(0, 10**6),
            st.sampled_from(["", "Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T"]),
        ),
    ),
    "cpu": (
        units.CPU_PATTERN,
        units.parse_cpu,
        st.builds(
            lambda zeros, whole, fraction: f"{zeros}{whole}{fraction}",
            _LEADING_ZEROS,
            st.integers(0, 2) | st.integers(0, 5000),
            st.sampled_from(["", "m"]) | st.text("0123456789", min_size=1, max_size=3).map(lambda f: "." + f),
        ),
    ),
}


@pytest.mark.parametrize("kind", sorted(_SPELT))
@given(data=st.data())
@settings(max_examples=400, deadline=None)
def test_the_schemas_pattern_accepts_exactly_what_the_parser_does(kind: str, data: st.DataObject) -> None:
    pattern, parse, spelt = _SPELT[kind]
    text = data.draw(spelt)
    assert bool(re.fullmatch(pattern, text)) == _accepts(parse, text), text


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (0.001, True),
        (0.0009, False),
        (units.MAX_DURATION_SECONDS, True),
        (units.MAX_DURATION_SECONDS + 0.001, False),
    ],
)
def test_a_bare_duration_is_held_to_the_schemas_bounds(value: float, accepted: bool) -> None:
    assert _accepts(units.parse_duration, value) is accepted


@pytest.mark.parametrize(("value", "accepted"), [(0.0005, False), (0.00051, True), (0.001, True)])
def test_a_bare_cpu_is_held_to_the_schemas_bound(value: float, accepted: bool) -> None:
    assert _accepts(units.parse_cpu, value) is accepted
    assert (value > units.MIN_CPU) is accepted


def test_memory_written_as_a_whole_float_is_an_integer_as_json_schema_says() -> None:
    assert units.parse_memory(536870912.0) == 512 * 1024**2
    with pytest.raises(ValueError, match="memory size"):
        units.parse_memory(0.5)
