"""SLO rule files against the real ``promtool``: they load clean, and on synthetic series
a fast burn pages, a 1× burn does not, and a region's alert fires on its own errors only.

Series are per minute from 0 (counters start at 0, so every window's rate is the burn
from the start). ``eu-west`` answers 1000 requests a minute; how many of them are 5xx is
the burn: 15 (1.5%, just over 14.4 × the 0.1% budget of 99.9%) or 1 (0.1%, 1×).
``us-east`` answers as many with no 5xx series at all, which the SLI must read as 0.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from taxiway.plan.observability import rule_text, slo_rules, sloth
from taxiway.spec import document, sloth_spec
from taxiway.spec.manifest import Slo
from tests.conftest import EXAMPLES

PROMTOOL = shutil.which("promtool")
CASES = Path(__file__).parent.parent / "unit" / "sloth_cases"

SLOS = [
    Slo.model_validate({"name": "availability", "objective": 99.9, "indicator": {"type": "availability"}}),
    Slo.model_validate(
        {"name": "latency", "objective": 99, "indicator": {"type": "latency", "threshold": "300ms"}}
    ),
]
SERIES = (
    'taxiway_ingress_requests_total{{service="hello",environment="production",revision="r1",'
    'code_class="{code}",region="{region}"}}'
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)


def _write_rules(tmp_path: Path, scope: slo_rules.Scope = "region") -> Path:
    rules = tmp_path / f"hello-{scope}.rules.yml"
    rules.write_text(slo_rules.render(slo_rules.rule_file("hello", "production", SLOS, "team-hello", scope)))
    return rules


@pytest.mark.parametrize("scope", slo_rules.SCOPES)
def test_a_services_rule_file_checks_clean(tmp_path: Path, scope: slo_rules.Scope) -> None:
    result = _promtool("check", "rules", str(_write_rules(tmp_path, scope)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 34 rules found" in result.stdout
    assert "lint" not in result.stdout + result.stderr  # no duplicate-rule warning either


def test_the_example_services_printed_rules_check_clean(tmp_path: Path) -> None:
    loaded = document.parse((EXAMPLES / "hello/.taxiway/service.yaml").read_text(), "service.yaml")
    assert loaded.data["spec"]["slos"]  # the example declares SLOs
    rules = _write_rules(tmp_path)
    assert _promtool("check", "rules", str(rules)).returncode == 0


@pytest.mark.parametrize(("name", "days"), [("checkout", 30), ("search", 30), ("ledger", 28)])
def test_sloth_imports_check_clean(tmp_path: Path, name: str, days: int) -> None:
    path = CASES / f"{name}.yml"
    spec = sloth_spec.parse(document.parse(path.read_text(), str(path)))
    groups = sloth.rule_groups(sloth.slos_from_spec(spec, days * 86_400_000), slo_rules.GENERATOR)
    rules = tmp_path / f"{name}.rules.yml"
    rules.write_text(rule_text.render({"groups": groups}))
    # Sloth's own period rules of two SLOs look alike to the duplicate lint (exactly as
    # Sloth's output does); the rules themselves must load.
    result = _promtool("check", "rules", "--lint=none", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _series(eu_west_errors_per_minute: int) -> list[dict[str, str]]:
    good = 1000 - eu_west_errors_per_minute
    return [
        {"series": SERIES.format(code="2xx", region="eu-west"), "values": f"0+{good}x120"},
        {
            "series": SERIES.format(code="5xx", region="eu-west"),
            "values": f"0+{eu_west_errors_per_minute}x120",
        },
        {"series": SERIES.format(code="2xx", region="us-east"), "values": "0+1000x120"},
    ]


def _alert(severity: str, window: str, region: str = "eu-west") -> dict[str, Any]:
    return {
        "exp_labels": {
            "severity": severity,
            "sloth_severity": severity,
            "slo": "availability",
            "service": "hello",
            "environment": "production",
            "owner": "team-hello",
            "region": region,
            "sloth_id": "hello-availability",
            "sloth_service": "hello",
            "sloth_slo": "availability",
            "sloth_window": window,
        },
        "exp_annotations": {
            "title": f"({severity}) hello availability SLO error budget burn rate is too fast.",
            "summary": f"hello (production) in {region} is burning its availability error budget too fast.",
        },
    }


def _run_tests(tmp_path: Path, tests: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    rules = _write_rules(tmp_path)
    cases = tmp_path / "cases.yml"
    yaml = YAML(typ="safe", pure=True)
    with cases.open("w") as stream:
        yaml.dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests}, stream)
    return _promtool("test", "rules", str(cases))


def test_a_fast_burn_pages_within_the_short_window_in_its_region_only(tmp_path: Path) -> None:
    zero_errors = {
        "expr": 'slo:sli_error:ratio_rate5m{region="us-east",sloth_slo="availability"}',
        "eval_time": "5m",
        "exp_samples": [
            {
                "labels": 'slo:sli_error:ratio_rate5m{region="us-east",environment="production",'
                'owner="team-hello",'
                'service="hello",sloth_id="hello-availability",sloth_service="hello",sloth_slo="availability",'
                'sloth_window="5m"}',
                "value": 0,
            }
        ],
    }
    result = _run_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": _series(15),
                "promql_expr_test": [zero_errors],
                "alert_rule_test": [
                    # Within the 5m short window the 1h window burns as fast (counters from 0):
                    # the page fires, and the ticket (3× over 2h and 1d) with it; us-east is quiet.
                    {
                        "eval_time": "5m",
                        "alertname": slo_rules.ALERT,
                        "exp_alerts": [_alert("page", "5m"), _alert("ticket", "2h")],
                    },
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_1x_burn_pages_nobody(tmp_path: Path) -> None:
    result = _run_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": _series(1),
                "alert_rule_test": [
                    # 1× spends the budget exactly over the period: no page (14.4× or 6×), no
                    # fast ticket (3×); only the slow ticket, whose threshold 1× is.
                    {
                        "eval_time": "10m",
                        "alertname": slo_rules.ALERT,
                        "exp_alerts": [_alert("ticket", "6h")],
                    },
                    {"eval_time": "2h", "alertname": slo_rules.ALERT, "exp_alerts": [_alert("ticket", "6h")]},
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_latency_counts_the_requests_slower_than_the_threshold(tmp_path: Path) -> None:
    histogram = (
        "taxiway_ingress_request_duration_seconds_{part}"
        '{{service="hello",environment="production",revision="r1",region="eu-west"{le}}}'
    )
    labels = (
        '{environment="production",owner="team-hello",region="eu-west",service="hello",'
        'sloth_id="hello-latency",sloth_service="hello",sloth_slo="latency",sloth_window="5m"}'
    )
    result = _run_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [
                    # 1000 requests a minute, 990 of them within 300ms: 1% too slow.
                    {"series": histogram.format(part="count", le=""), "values": "0+1000x20"},
                    {"series": histogram.format(part="bucket", le=',le="0.3"'), "values": "0+990x20"},
                ],
                "promql_expr_test": [
                    {
                        "expr": 'round(slo:sli_error:ratio_rate5m{sloth_slo="latency"} * 1000)',
                        "eval_time": "10m",
                        "exp_samples": [{"labels": labels, "value": 10}],
                    }
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_region_idle_before_its_first_request_keeps_a_period_sli(tmp_path: Path) -> None:
    """No traffic for the first 20 minutes, then 1000 good requests a minute: the period's
    budget is whole, not NaN (a 0/0 SLI while idle would poison the period's average)."""
    idle_then_busy = "0x20 0+1000x40"
    result = _run_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [
                    {"series": SERIES.format(code="2xx", region="eu-west"), "values": idle_then_busy}
                ],
                "promql_expr_test": [
                    {
                        "expr": 'slo:period_error_budget_remaining:ratio{sloth_slo="availability"}',
                        "eval_time": "50m",
                        "exp_samples": [
                            {
                                "labels": 'slo:period_error_budget_remaining:ratio{environment="production",'
                                'owner="team-hello",region="eu-west",service="hello",sloth_id="hello-availability",'
                                'sloth_service="hello",sloth_slo="availability",sloth_window="4w"}',
                                "value": 1,
                            }
                        ],
                    }
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr
