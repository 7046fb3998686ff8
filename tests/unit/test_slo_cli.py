"""``taxiway slo rules``: exit codes, output, and bad Sloth specs as located messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from taxiway.cli import main
from tests.conftest import EXAMPLES

CASES = Path(__file__).parent / "sloth_cases"
CHECKOUT_AVAILABILITY = "version: prometheus/v1\nservice: checkout\nslos:\n  - name: availability\n"
"""The start of a Sloth spec with one SLO, whose fields each test writes."""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def taxiway(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``taxiway slo rules ARGS`` run as the command runs (its error handling included)."""

    def run(*args: str) -> Result:
        with pytest.raises(SystemExit) as exited:
            main.main(["slo", "rules", *args])
        captured = capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 0, captured.out, captured.err)

    return run


def test_prints_a_services_rules(taxiway: Callable[..., Result]) -> None:
    result = taxiway(
        str(EXAMPLES / "hello"), "--env", "production", "--inventory", str(EXAMPLES / "inventory.yaml")
    )
    assert result.returncode == 0, result.stderr
    groups = YAML(typ="safe", pure=True).load(result.stdout)["groups"]
    assert [g["name"] for g in groups][:3] == [
        "sloth-slo-sli-recordings-hello-availability",
        "sloth-slo-meta-recordings-hello-availability",
        "sloth-slo-alerts-hello-availability",
    ]
    assert groups[0]["rules"][0]["labels"]["owner"] == "team-hello"


def test_prints_what_sloth_generates_for_a_sloth_spec(taxiway: Callable[..., Result]) -> None:
    result = taxiway("--sloth", str(CASES / "ledger.yml"), "--period", "28d")
    assert result.returncode == 0, result.stderr
    yaml = YAML(typ="safe", pure=True)
    assert yaml.load(result.stdout) == yaml.load((CASES / "ledger.rules.yml").read_text())


def test_usage_errors_exit_2(taxiway: Callable[..., Result]) -> None:
    assert taxiway(str(EXAMPLES / "hello")).returncode == 2  # no --env
    assert taxiway().returncode == 2  # nothing to read
    both = taxiway(str(EXAMPLES / "hello"), "--sloth", str(CASES / "ledger.yml"))
    assert both.returncode == 2
    assert "--sloth takes no PATH" in both.stderr
    assert taxiway("--sloth", str(CASES / "ledger.yml"), "--period", "soon").returncode == 2
    assert taxiway("--sloth", str(CASES / "ledger.yml"), "--scope", "global").returncode == 2
    assert taxiway(str(EXAMPLES / "hello"), "--env", "production", "--period", "7d").returncode == 2


def test_a_bad_sloth_spec_is_located_and_changes_nothing(
    taxiway: Callable[..., Result], tmp_path: Path
) -> None:
    spec = tmp_path / "slos.yml"
    spec.write_text(
        CHECKOUT_AVAILABILITY + "    objective: 100.5\n"
        "    sli:\n"
        "      events:\n"
        "        erorQuery: sum(rate(errors[{{.window}}]))\n"
        "        totalQuery: sum(rate(requests[{{.window}}]))\n"
        "    alerting: {name: CheckoutErrors}\n"
    )
    result = taxiway("--sloth", str(spec))
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        f"{spec}:5:16: slos[0].objective: invalid value (found 100.5; expected a value ≤ 100.0)"
        in result.stderr
    )
    assert (
        f"{spec}:8:9: slos[0].sli.events.erorQuery: unknown field; did you mean 'errorQuery'?"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_missing_alert_name_and_an_unknown_template_value(
    taxiway: Callable[..., Result], tmp_path: Path
) -> None:
    spec = tmp_path / "slos.yml"
    spec.write_text(
        CHECKOUT_AVAILABILITY + "    objective: 99.9\n"
        "    sli:\n"
        "      raw: {errorRatioQuery: 'rate(errors[{{.range}}])'}\n"
    )
    result = taxiway("--sloth", str(spec))
    assert result.returncode == 1
    assert "slos[0].alerting.name: alert name is missing" in result.stderr
    assert "slos[0].sli.raw.errorRatioQuery: unknown template value (found {{.range}}" in result.stderr
    assert "Traceback" not in result.stderr
