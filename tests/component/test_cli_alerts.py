"""``taxiway alerts`` and the firing alerts in ``taxiway status SERVICE``, against a real
control plane on a loopback socket (the CLI runs in this process)."""

from __future__ import annotations

import datetime
import json

import pytest

from taxiway.store import records
from tests.fixtures import cli_world
from tests.fixtures.cli_world import World, taxiway

world = cli_world.world  # the fixture


def _record(
    world: World, name: str, region: str, *, fingerprint: str, status: str = "firing", minutes: int = 3
) -> None:
    started = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)
    world.store.record_alerts(
        [
            records.DeliveredAlert(
                fingerprint=fingerprint,
                starts_at=started,
                status=status,  # type: ignore[arg-type]
                service="hello",
                labels={
                    "alertname": name,
                    "service": "hello",
                    "environment": "production",
                    "region": region,
                    "severity": "page",
                    "owner": "team-hello",
                },
                annotations={"summary": f"hello burns its budget in {region}"},
                ends_at=started + datetime.timedelta(minutes=1) if status == "resolved" else None,
                generator_url="",
                owner="team-hello",
            )
        ],
        "alerts:am",
    )


def test_alerts_lists_firing_by_default_and_all_with_all(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "no firing alerts" in taxiway(capsys, "alerts", "hello").out
    _record(world, "ErrorBudgetBurn", "us-east1", fingerprint="aa")
    _record(world, "LatencyBurn", "europe-west1", fingerprint="bb", status="resolved", minutes=10)

    table = taxiway(capsys, "alerts", "hello")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == [
        "ALERT",
        "SERVICE",
        "ENVIRONMENT",
        "REGION",
        "SEVERITY",
        "STATE",
        "SINCE",
        "ENDED",
    ]
    assert lines[1].split() == [
        "ErrorBudgetBurn",
        "hello",
        "production",
        "us-east1",
        "page",
        "firing",
        "3m",
        "ago",
        "-",
    ]
    assert "LatencyBurn" not in table.out

    everything = taxiway(capsys, "alerts", "hello", "--all", "--json")
    listed = json.loads(everything.out)
    assert [(a["alertname"], a["status"]) for a in listed] == [
        ("ErrorBudgetBurn", "firing"),
        ("LatencyBurn", "resolved"),
    ]
    assert listed[0]["owner"] == "team-hello"
    assert [a["fingerprint"] for a in json.loads(taxiway(capsys, "alerts", "--json").out)] == ["aa"]


def test_status_shows_the_firing_alerts(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.report("us-east1", 1, "ready")
    world.report("europe-west1", 1, "ready")
    view = taxiway(capsys, "status", "hello")
    assert "no alerts firing" in view.out
    _record(world, "ErrorBudgetBurn", "us-east1", fingerprint="aa")

    view = taxiway(capsys, "status", "hello")
    assert view.code == 0, view.err
    assert "alerts firing (1)" in view.out
    (line,) = [ln for ln in view.out.splitlines() if "ErrorBudgetBurn" in ln]
    assert line.split()[:5] == ["ErrorBudgetBurn", "production", "us-east1", "page", "3m"]
    assert "hello burns its budget in us-east1" in line

    rows = {r["region"]: r for r in json.loads(taxiway(capsys, "status", "hello", "--json").out)}
    assert [a["alertname"] for a in rows["us-east1"]["alerts"]] == ["ErrorBudgetBurn"]
    assert rows["us-east1"]["alerts"][0]["starts_at"]
    assert rows["europe-west1"]["alerts"] == []


def test_another_owner_is_refused(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(world, "ErrorBudgetBurn", "us-east1", fingerprint="aa")
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["stranger"])
    refused = taxiway(capsys, "alerts", "hello")
    assert refused.code == 1
    assert "not allowed" in refused.err
    assert json.loads(taxiway(capsys, "alerts", "--json").out) == []
