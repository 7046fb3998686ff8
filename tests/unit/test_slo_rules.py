"""A manifest's SLOs as Sloth-shaped rules over the ingress's series, per region or global."""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from taxiway.plan.observability import names, slo_rules
from taxiway.spec.manifest import Slo

AVAILABILITY = Slo.model_validate(
    {"name": "availability", "objective": 99.9, "indicator": {"type": "availability"}}
)
LATENCY = Slo.model_validate(
    {
        "name": "latency",
        "objective": 99.0,
        "indicator": {"type": "latency", "threshold": "1s"},
        "window": "30d",
    }
)


def _rules(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in document["groups"] for rule in group["rules"]]


def _file(environment: str = "production", scope: slo_rules.Scope = "region") -> dict[str, Any]:
    return slo_rules.rule_file("hello", environment, [AVAILABILITY, LATENCY], "team-hello", scope)


def test_every_recording_names_service_environment_owner_and_the_slo() -> None:
    for rule in _rules(_file()):
        if "record" in rule:
            labels = rule["labels"]
            assert labels[names.SERVICE] == "hello", rule
            assert labels[names.ENVIRONMENT] == "production"
            assert labels[names.OWNER] == "team-hello"
            assert labels["sloth_service"] == "hello"
            assert labels["sloth_slo"] in ("availability", "latency")


def test_alerts_carry_severity_and_the_slo() -> None:
    alerts = [rule for rule in _rules(_file()) if "alert" in rule]
    assert [(a["labels"][names.SEVERITY], a["labels"][names.SLO]) for a in alerts] == [
        ("page", "availability"),
        ("ticket", "availability"),
        ("page", "latency"),
        ("ticket", "latency"),
    ]
    assert all(a["labels"]["sloth_severity"] == a["labels"][names.SEVERITY] for a in alerts)


def test_regional_slis_keep_the_region_and_read_zero_without_errors() -> None:
    sli = _rules(_file())[0]
    assert sli["record"] == "slo:sli_error:ratio_rate5m"
    assert sli["expr"] == (
        '(sum by (region) (rate(taxiway_ingress_requests_total{service="hello",environment="production",'
        'code_class="5xx"}[5m])) or sum by (region) (rate(taxiway_ingress_requests_total'
        '{service="hello",environment="production"}[5m])) * 0)\n/\n'
        '(sum by (region) (rate(taxiway_ingress_requests_total{service="hello",'
        'environment="production"}[5m])) > 0)\n'
    )


def test_latency_counts_requests_above_the_thresholds_bucket() -> None:
    groups = _file()["groups"]
    latency = next(g for g in groups if g["name"] == "sloth-slo-sli-recordings-hello-latency")
    expr = latency["rules"][0]["expr"]
    count = "taxiway_ingress_request_duration_seconds_count"
    bucket = (
        'taxiway_ingress_request_duration_seconds_bucket{service="hello",environment="production",le="1.0"}'
    )
    assert expr.startswith(f"(sum by (region) (rate({count}")
    assert f" - sum by (region) (rate({bucket}[5m])))\n/\n" in expr
    # 30 days, the period Prometheus spells 30d
    assert latency["rules"][-1]["record"] == "slo:sli_error:ratio_rate30d"


def test_global_sums_every_region_under_ids_of_its_own() -> None:
    regional, overall = _file(scope="region"), _file(scope="global")
    assert all("by (region)" not in rule["expr"] for rule in _rules(overall))
    ids = {rule["labels"].get("sloth_id") for rule in _rules(regional)} - {None}
    global_ids = {rule["labels"].get("sloth_id") for rule in _rules(overall)} - {None}
    assert global_ids == {"hello-availability.global", "hello-latency.global"}
    assert not ids & global_ids
    assert not {g["name"] for g in regional["groups"]} & {g["name"] for g in overall["groups"]}


def test_staging_reads_apart_from_production() -> None:
    labels = _rules(_file("staging"))[0]["labels"]
    assert (labels["sloth_service"], labels["sloth_id"]) == ("hello.staging", "hello.staging-availability")
    assert labels[names.ENVIRONMENT] == "staging"


def test_the_rendered_file_is_stable_and_reads_back() -> None:
    document = _file()
    text = slo_rules.render(document)
    assert text == slo_rules.render(_file())
    assert YAML(typ="safe", pure=True).load(text) == document
    assert text.startswith("# ")
