"""Durations, memory and CPU: the text users write, one canonical number, one canonical text."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest

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
