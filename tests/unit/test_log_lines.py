"""``taxiway logs``'s reading of satellite lines: stamps, instance names, checks, --since."""

from __future__ import annotations

import datetime

import pytest

from taxiway.client import log_lines
from taxiway.plan import derive, secret_digest
from taxiway.spec import platform, service_files
from tests.conftest import EXAMPLES

NOW = datetime.datetime(2026, 12, 1, 9, 10, tzinfo=datetime.UTC)


def test_a_line_is_rendered_with_its_time_and_its_region_and_instance() -> None:
    line = log_lines.parse("us-east1", "hello-production-r1-0 | 2026-12-01T09:10:11.123Z listening | on")
    assert line.render() == "2026-12-01T09:10:11.123Z us-east1/hello-production-r1-0 | listening | on"
    old = log_lines.parse("us-east1", "hello-production-r1-0 | written before stamps")
    assert old.render() == "- us-east1/hello-production-r1-0 | written before stamps"


@pytest.mark.parametrize(
    "text",
    [
        '127.0.0.1 - - [01/Dec/2026 09:10:11] "GET /health HTTP/1.1" 200 -',  # http.server
        '127.0.0.1 - - [01/Dec/2026:09:10:11 +0000] "GET /health?full=1 HTTP/1.0" 200 2 "-" "ua"',  # gunicorn
        'INFO:     127.0.0.1:50312 - "HEAD /ready HTTP/1.1" 200 OK',  # uvicorn
        '127.0.0.1 "GET / HTTP/1.1" 200 "Taxiway-check/0.4"',  # a check names itself
        "GET / user-agent=taxiway-probe",
    ],
)
def test_checks_are_recognised_in_the_common_access_log_formats(text: str) -> None:
    assert log_lines.is_check(text, frozenset({"/health", "/ready"}))


@pytest.mark.parametrize(
    "text",
    [
        '127.0.0.1 - - "GET / HTTP/1.1" 200 -',
        '127.0.0.1 - - "GET /healthy HTTP/1.1" 200 -',
        '127.0.0.1 - - "POST /health HTTP/1.1" 200 -',  # not how any check asks
        "checking /health by hand",
        "Traceback (most recent call last):",
    ],
)
def test_everything_else_is_shown(text: str) -> None:
    assert not log_lines.is_check(text, frozenset({"/health", "/ready"}))


def test_check_paths_are_the_probes_and_the_monitor_of_what_runs() -> None:
    topology = platform.load_topology(EXAMPLES / "topology.yaml")
    loaded = service_files.load(service_files.find(EXAMPLES / "hello"), "production")
    definitions = derive.derive(
        loaded.manifest, "production", topology, secret_digest=secret_digest.Keyer(b"test key")
    ).values()
    assert log_lines.check_paths(definitions) == frozenset({"/health"})
    assert log_lines.check_paths([]) == frozenset()


def test_since_is_a_duration_back_or_an_rfc_3339_time() -> None:
    assert log_lines.since("5m", NOW) == NOW - datetime.timedelta(minutes=5)
    assert log_lines.since("2026-12-01T08:00:00Z", NOW) == NOW.replace(hour=8, minute=0)
    assert log_lines.since("2026-12-01T10:00:00+01:00", NOW) == NOW.replace(minute=0)
    for bad in ("yesterday", "2026-12-01T08:00:00", "-5m"):
        with pytest.raises(ValueError, match="RFC 3339"):
            log_lines.since(bad, NOW)


def test_tail_keeps_the_last_lines_of_each_instance() -> None:
    lines = [
        log_lines.LogLine("us-east1", name, None, f"{name} {index}") for index in range(3) for name in "ab"
    ]
    assert [line.text for line in log_lines.last_per_instance(lines, 2)] == ["a 1", "a 2", "b 1", "b 2"]
    assert log_lines.last_per_instance(lines, 0) == []
