"""Alertmanager's configuration, rendered purely: grouping, the webhook, the token kept out."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from taxiway.plan.observability import alertmanager_config as am


def _parsed(text: str) -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe", pure=True).load(text)
    return document


def test_every_alert_goes_to_the_control_plane_with_resolved_and_a_token_file() -> None:
    document = _parsed(am.render("http://127.0.0.1:7070/", "/run/taxiway/alerts.token", am.DEV_TIMING))
    assert document["route"] == {
        "receiver": "taxiway-control-plane",
        "group_by": ["service", "environment", "region", "alertname", "severity"],
        "group_wait": "1s",
        "group_interval": "5s",
        "repeat_interval": "1h",
    }
    (receiver,) = document["receivers"]
    (webhook,) = receiver["webhook_configs"]
    assert webhook["url"] == "http://127.0.0.1:7070/v1/alerts"
    assert webhook["send_resolved"] is True
    assert webhook["http_config"] == {
        "authorization": {"type": "Bearer", "credentials_file": "/run/taxiway/alerts.token"}
    }


def test_the_default_timing_is_alertmanagers_own() -> None:
    route = _parsed(am.render("https://cp.example", "/t"))["route"]
    assert isinstance(route, dict)
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("30s", "5m", "4h")


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.5, "500ms"), (1, "1s"), (90, "90s"), (300, "5m"), (7200, "2h"), (1.25, "1250ms")]
)
def test_durations_are_go_durations(seconds: float, text: str) -> None:
    assert am.duration(seconds) == text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: am.render("127.0.0.1:7070", "/t"), "http:// or https://"),
        (lambda: am.render("http://127.0.0.1:7070", " "), "token file"),
        (lambda: am.Timing(group_wait=0), "group_wait"),
        (lambda: am.Timing(repeat_interval=float("nan")), "repeat_interval"),
    ],
)
def test_bad_input_is_refused_with_a_message(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]
