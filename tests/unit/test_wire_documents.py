"""The wire documents: what each end parses, what it tolerates, and how a bad one is named."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from taxiway.errors import ProtocolError
from taxiway.wire import feed, pop_config, pop_status, problem, region_status, regions


def feed_answer(**item: Any) -> dict[str, Any]:
    entry = {"service": "hello", "environment": "production", "revision": 3, "seq": 4, "definition": None}
    return {"region": "us-east1", "cursor": 4, "items": [{**entry, **item}]}


def test_the_feed_ignores_fields_it_does_not_know() -> None:
    body = {**feed_answer(color="blue"), "next_poll": 5}
    batch = feed.parse(body, "us-east1")
    assert (batch.cursor, batch.items[0].key) == (4, ("hello", "production"))


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"region": "us-east1", "cursor": 1, "items": [{}, 7]}, r"items\[0\]\.service is missing"),
        ({"region": "us-east1", "cursor": 1, "items": [7]}, r"items\[0\] is not an object"),
        (feed_answer(seq=True), r"items\[0\]\.seq is True, expected a whole number"),
        (feed_answer(definition=[1]), r"items\[0\]\.definition is neither an object nor null"),
        ({"region": "us-east1", "items": []}, r"cursor is missing"),
    ],
)
def test_a_bad_feed_names_the_field(body: dict[str, Any], named: str) -> None:
    with pytest.raises(ProtocolError, match=rf"^definitions feed: {named}"):
        feed.parse(body, "us-east1")


SERVICE: dict[str, Any] = {
    "service": "hello",
    "monitor": {"interval": 2, "timeout": 1, "consecutive_up": 1, "consecutive_down": 1},
    "pools": [{"region": "us-east1", "ingress": None}],
}


def test_a_pop_config_service_takes_defaults_and_ignores_unknown_fields() -> None:
    service = pop_config.parse_service({**SERVICE, "weights": {"us-east1": 3}})
    assert (service.environment, service.steering, service.monitor.protocol) == (
        "production",
        "dynamic_latency",
        "tcp",
    )
    assert service.monitor.interval == 2.0
    assert service.pools == (pop_config.Pool(region="us-east1"),)


def test_a_pop_config_renders_monitor_path_only_where_there_is_one() -> None:
    document = pop_config.PopConfig(
        pop="iad",
        version=1,
        services=(pop_config.parse_service(SERVICE),),
    ).model_dump(mode="json")
    assert document["services"][0]["pools"] == [{"region": "us-east1", "ingress": None}]
    version, services = pop_config.parse_header(document, "iad")
    assert (version, pop_config.parse_service(services[0])) == (1, pop_config.parse_service(SERVICE))


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (
            {**SERVICE, "monitor": {**SERVICE["monitor"], "timeout": -1}},
            "monitor.timeout: expected a positive",
        ),
        ({**SERVICE, "pools": [{"ingress": None}]}, r"pools\[0\]\.region: is missing"),
        ({**SERVICE, "pools": ["us-east1"]}, r"pools\[0\]: expected an object"),
        ({k: v for k, v in SERVICE.items() if k != "monitor"}, "monitor: is missing"),
    ],
)
def test_a_bad_pop_config_service_names_the_field(data: dict[str, Any], named: str) -> None:
    with pytest.raises(pop_config.BadService, match=f"^{named}"):
        pop_config.parse_service(data)


@pytest.mark.parametrize(
    ("answer", "named"),
    [({"pop": "iad", "services": []}, "version is missing"), ({"pop": "iad", "version": -1}, "version -1")],
)
def test_a_bad_pop_config_header_names_the_field(answer: dict[str, Any], named: str) -> None:
    with pytest.raises(ProtocolError, match=f"^the config of PoP iad: {named}"):
        pop_config.parse_header(answer, "iad")


def test_a_status_report_round_trips_and_reads_odd_fields_as_unknown() -> None:
    sent = region_status.Report(
        revision=3,
        desired_instances=1,
        ready_instances=1,
        phase="ready",
        message="1/1 instances ready",
        instances=[region_status.InstanceReport(id="hello-production-r3-0", revision=3, ready=True)],
    ).model_dump()
    assert "observed_at" not in sent  # stamped just before sending
    assert region_status.Report.model_validate(sent).model_dump() == sent
    odd = region_status.Report.model_validate(
        {
            "revision": "3",
            "phase": 7,
            "instances": [{"ready": "yes", "restarts": None, "log_tail": "x"}, 5],
            "new": 1,
        }
    )
    assert (odd.revision, odd.phase, odd.message) == (None, None, "")
    [instance] = odd.instances
    assert (instance.id, instance.ready, instance.restarts, instance.log_tail) == ("?", False, 0, [])


def test_a_pop_status_round_trips() -> None:
    pool = pop_status.PoolStatus(region="us-east1", healthy=True, rtt_ms=2.4, serving=True, status="UP")
    sent = pop_status.PopStatus(
        services=[pop_status.ServiceStatus(service="hello", serving="us-east1", pools=[pool])],
        haproxy={"pid": 1},
    ).model_dump()
    assert pop_status.PopStatus.model_validate(sent).model_dump() == sent
    assert pop_status.PoolStatus.model_validate({"region": "x", "rtt_ms": True}).rtt_ms is None


def test_a_problem_body_carries_only_the_fields_given() -> None:
    assert problem.render(404, "not-found", "Not found", "no such service") == {
        "type": "https://taxiway.dev/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no such service",
        "code": "not-found",
    }
    body = problem.render(
        422,
        "invalid-request",
        "The request is invalid",
        "see problems",
        problems=[{"field": "body.cursor", "message": "not a number"}],
    )
    assert body["problems"] == [{"field": "body.cursor", "message": "not a number"}]
    with pytest.raises(pydantic.ValidationError):
        problem.ProblemDocument(type="t", title="t", status=200, detail="d", code="c")


def test_a_region_entry_reads_what_it_can() -> None:
    entry = regions.RegionEntry.model_validate(
        {"name": "us-east1", "cursor": "7", "api": "", "failed_nodes": [["us-east1-b", "n1"], "x"], "new": 1}
    )
    assert (entry.cursor, entry.api, entry.failed_nodes, entry.continent) == (
        None,
        None,
        [["us-east1-b", "n1"]],
        None,
    )
