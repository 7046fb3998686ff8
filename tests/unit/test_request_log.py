"""The request log line (format and parsing), the sink's tally and the thresholds file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from taxiway.plan import regional
from taxiway.plan.haproxy import config, tokens
from taxiway.plan.observability import latency_thresholds, names, request_log, request_tally
from taxiway.plan.observability.request_log import Record, Skipped
from taxiway.plan.region import reconcile
from tests.fixtures import region_world

SOCKET = Path("/run/taxiway/log.sock")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"tw1 hello hello-production-r7-0 200 12\n", Record("hello", "production", "7", "2xx", 0.012)),
        (
            b"tw1 hello hello-production-r12s0123abcd-3 503 3004\n",
            Record("hello", "production", "12", "5xx", 3.004),
        ),
        (b"tw1 my-app my-app-production-r1-0 404 0", Record("my-app", "production", "1", "4xx", 0.0)),
        (b"tw1 my-app my-app-staging-r2-1 101 5", Record("my-app", "staging", "2", "1xx", 0.005)),
        (b"tw1 hello <NOSRV> 503 0\n", Record("hello", "production", names.NO_REVISION, "5xx", 0.0)),
    ],
)
def test_a_line_becomes_a_record(line: bytes, expected: Record) -> None:
    assert request_log.parse(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"tw1 be_unknown <NOSRV> 404 0\n", Skipped.UNROUTED),
        (b"tw1 hello hello-production-r7-0 -1 20\n", Skipped.UNANSWERED),
        (b"tw1 hello <NOSRV> 0 1\n", Skipped.UNANSWERED),
        (b"Proxy fe_main stopped (cumulated conns: FE: 1, BE: 0).\n", Skipped.MESSAGE),
        (b"", Skipped.MESSAGE),
        (b"<134>Dec  1 18:00:00 haproxy[1]: tw1 hello hello-production-r7-0 200 1\n", Skipped.MESSAGE),
    ],
)
def test_lines_that_are_no_service_answer_are_skipped(line: bytes, expected: Skipped) -> None:
    assert request_log.parse(line) is expected


@pytest.mark.parametrize(
    "line",
    [
        b"tw1",
        b"tw1 \n",
        b"tw1 garbage",
        b"\xff\xfe",
        b"tw1 hello hello-production-r7-0 200\n",
        b"tw1 hello hello-production-r7-0 200 12 extra\n",
        b"tw1 hello hello-production-r7-0 2OO 12\n",
        b"tw1 hello hello-production-r7-0 200 -5\n",
        b"tw1 hello hello-production-r7-0 700 1\n",
        b"tw1 hello other-production-r7-0 200 1\n",  # the server is not the backend's
        b"tw1 hello hello-production-7-0 200 1\n",
        b"tw1 hello hello-production-r7 200 1\n",
        b"tw1 hello  hello-production-r7-0 200 1\n",
        b"tw1 h\xc3\xa9llo h\xc3\xa9llo-production-r7-0 200 1\n",
    ],
)
def test_anything_else_is_unparsed(line: bytes) -> None:
    assert request_log.parse(line) is request_log.UNPARSED


def test_the_ingress_frontend_logs_in_the_parsed_format_only_when_asked() -> None:
    control = config.Control(stats_socket=Path("/s/admin.sock"), server_state_file=Path("/s/state"))
    ingress = config.Ingress("eu-west", "example.test", config.Endpoint("127.0.0.1", 8080), control)
    assert " log /" not in config.render(ingress)
    text = config.render(dataclasses.replace(ingress, request_log=SOCKET))
    frontend = text.split("frontend fe_main", 1)[1].split("\n\n", 1)[0]
    assert f"    log {SOCKET} format raw local0 info\n" in frontend
    assert f'    log-format "{request_log.LOG_FORMAT}"\n' in frontend


def test_a_request_log_socket_path_too_long_for_unix_sockets_is_refused() -> None:
    control = config.Control(stats_socket=Path("/s/admin.sock"), server_state_file=Path("/s/state"))
    long_path = Path("/" + "d" * 120 + "/log.sock")
    ingress = config.Ingress(
        "eu-west", "example.test", config.Endpoint("127.0.0.1", 8080), control, request_log=long_path
    )
    with pytest.raises(tokens.UnsafeValue, match="request log socket"):
        config.render(ingress)


def test_the_tally_counts_and_buckets_with_the_thresholds_as_bounds() -> None:
    tally = request_tally.Tally(thresholds={"hello": (0.3,)})
    for seconds in (0.001, 0.3, 0.31, 20.0):
        tally.add(Record("hello", "production", "7", "2xx", seconds))
    tally.add(Record("hello", "production", "7", "5xx", 0.3))
    assert tally.requests == {
        ("hello", "production", "7", "2xx"): 4,
        ("hello", "production", "7", "3xx"): 0,
        ("hello", "production", "7", "4xx"): 0,
        ("hello", "production", "7", "5xx"): 1,
    }
    histogram = tally.histograms["hello", "production", "7"]
    assert histogram.bounds == names.buckets_for([0.3])
    cumulative = dict(histogram.cumulative())
    assert cumulative[0.005] == 1
    assert cumulative[0.25] == 1
    assert cumulative[0.3] == 3  # a request of exactly the threshold is within it (le)
    assert cumulative[10.0] == 4
    assert cumulative[float("inf")] == histogram.count == 5
    assert histogram.sum == pytest.approx(0.001 + 0.3 + 0.31 + 20.0 + 0.3)


def test_new_thresholds_restart_only_the_histograms_whose_bounds_change() -> None:
    tally = request_tally.Tally(thresholds={"hello": (0.3,)})
    tally.add(Record("hello", "production", "7", "2xx", 0.1))
    tally.add(Record("other", "production", "1", "2xx", 0.1))
    tally.set_thresholds({"hello": (0.4,)})
    assert set(tally.histograms) == {("other", "production", "1")}
    assert tally.requests[("hello", "production", "7", "2xx")] == 1  # counters go on
    tally.add(Record("hello", "production", "7", "2xx", 0.1))
    assert tally.histograms["hello", "production", "7"].bounds == names.buckets_for([0.4])


def test_the_thresholds_document_round_trips_and_bad_ones_are_refused() -> None:
    thresholds = {"hello": (0.25, 0.3), "quiet": ()}
    assert latency_thresholds.parse(latency_thresholds.document(thresholds)) == thresholds
    bad: object
    for bad in (
        [],
        {"version": 2, "services": {}},
        {"version": 1, "services": []},
        {"version": 1, "services": {"hello": 0.3}},
        {"version": 1, "services": {"hello": [-1]}},
        {"version": 1, "services": {"hello": [True]}},
        {"version": 1, "services": {"hello": [float("nan")]}},
    ):
        with pytest.raises(latency_thresholds.Invalid):
            latency_thresholds.parse(bad)


def test_the_thresholds_come_from_the_routed_environment_latency_slos() -> None:
    def desired(environment: str, slos: list[dict[str, object]], removed: bool = False) -> reconcile.Desired:
        base = region_world.definition(1).model_dump(by_alias=True)
        base["spec"]["slos"] = slos
        definition = regional.RegionalDefinition.model_validate(base, strict=False)
        return reconcile.Desired("hello", environment, 1, removed=removed, definition=definition)

    latency = [
        {"name": "fast", "objective": 99, "indicator": {"type": "latency", "threshold": "300ms"}},
        {"name": "faster", "objective": 90, "indicator": {"type": "latency", "threshold": "100ms"}},
        {"name": "up", "objective": 99.9, "indicator": {"type": "availability"}},
    ]
    assert latency_thresholds.from_desired({("hello", "production"): desired("production", latency)}) == {
        "hello": (0.1, 0.3)
    }
    assert latency_thresholds.from_desired({("hello", "staging"): desired("staging", latency)}) == {}
    gone = desired("production", latency, removed=True)
    assert latency_thresholds.from_desired({("hello", "production"): gone}) == {}
    production = {("hello", "production"): desired("production", latency)}
    revision = production["hello", "production"].definition
    assert revision is not None
    assert latency_thresholds.revisions_from_desired(production) == {"hello": (str(revision.revision),)}
    assert latency_thresholds.revisions_from_desired({("hello", "production"): gone}) == {}
    assert latency_thresholds.revisions_from_desired({("hello", "staging"): desired("staging", [])}) == {}


def test_a_revisions_error_counter_exists_at_zero_from_its_first_request() -> None:
    """A burst of errors between two scrapes must be a counter that grew, not one that
    appeared at its final value (which rate() reads as no errors at all)."""
    tally = request_tally.Tally()
    tally.add(Record("hello", "production", "7", "2xx", 0.01))
    assert tally.requests[("hello", "production", "7", "5xx")] == 0
    for _ in range(60):
        tally.add(Record("hello", "production", "7", "5xx", 0.01))
    assert tally.requests[("hello", "production", "7", "5xx")] == 60


def test_the_revisions_to_come_travel_to_the_sink_and_exist_at_zero() -> None:
    document = latency_thresholds.document({"hello": (0.3,)}, {"hello": ("12",)})
    assert latency_thresholds.parse_revisions(document) == {"hello": ("12",)}
    assert latency_thresholds.parse_revisions(latency_thresholds.document({"hello": (0.3,)})) == {}
    with pytest.raises(latency_thresholds.Invalid):
        latency_thresholds.parse_revisions({**document, "revisions": {"hello": [12]}})
    tally = request_tally.Tally({"hello": (0.3,)})
    tally.expect("hello", "production", "12")
    assert tally.requests[("hello", "production", "12", "5xx")] == 0
    assert tally.histograms[("hello", "production", "12")].count == 0
    tally.add(Record("hello", "production", "12", "2xx", 0.01))
    assert tally.requests[("hello", "production", "12", "2xx")] == 1
