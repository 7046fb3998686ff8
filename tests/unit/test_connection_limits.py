"""The connection bounds of the control plane and the satellite API refuse nonsense values."""

from __future__ import annotations

import pytest

from taxiway.errors import ConfigurationError
from taxiway.satellite import bounded_server
from taxiway.server import settings


@pytest.mark.parametrize(
    "values",
    [
        {"head_timeout_seconds": 0},
        {"head_timeout_seconds": -1},
        {"keep_alive_seconds": 0},
        {"max_connections": 0},
    ],
)
def test_control_plane_limits_refuse_values_that_would_disable_them(values: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="expected"):
        settings.ConnectionLimits(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        {"workers": 0},
        {"queue": 0},
        {"max_connections": 0},
        {"head_timeout_seconds": 0},
        {"write_timeout_seconds": 0},
    ],
)
def test_satellite_api_limits_refuse_values_that_would_disable_them(values: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="expected"):
        bounded_server.Limits(**values)  # type: ignore[arg-type]


def test_the_defaults_hold() -> None:
    assert settings.ServerSettings.__dataclass_fields__["limits"].default == settings.ConnectionLimits()
    assert bounded_server.Limits().workers >= 2, "a stream must leave a worker for /healthz"


def test_a_whole_problem_response_is_well_formed() -> None:
    answer = bounded_server.problem_response(503, "unavailable", "busy")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"Connection: close" in head
    assert b"Retry-After: 1" in head
