"""A real Alertmanager (0.25) with Taxiway's configuration, delivering to a real control plane.

``amtool check-config`` accepts the rendered configuration; then Alertmanager runs on
loopback (free port, clustering off, storage in a tmp dir) with it, an alert is posted to
its ``POST /api/v2/alerts``, and the control plane records it within a deadline; posted
again with an end in the past, the row is resolved. The token Alertmanager sends is read
from a file the configuration names, never from the configuration itself.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from taxiway.plan.observability import alertmanager_config
from taxiway.store import records
from tests.fixtures.api_server import serve
from tests.fixtures.sockets import free_port
from tests.fixtures.waiting import wait_for

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")
pytestmark = pytest.mark.skipif(
    ALERTMANAGER is None or AMTOOL is None, reason="Alertmanager is not installed (scripts/bootstrap.sh)"
)
FAST = alertmanager_config.Timing(group_wait=0.5, group_interval=1.0, repeat_interval=3600.0)
SECRET_MARK = "twy_"
"""Every Taxiway bearer string starts so: the rendered configuration must hold none."""


def _config(tmp_path: Path, control_plane: str, token: str) -> Path:
    token_file = tmp_path / "alerts.token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config.render(control_plane, str(token_file), FAST))
    return config


def test_amtool_accepts_the_configuration(tmp_path: Path) -> None:
    assert AMTOOL is not None
    config = _config(tmp_path, "http://127.0.0.1:7070", "twy_abc_secret")
    assert SECRET_MARK not in config.read_text()
    checked = subprocess.run(
        [AMTOOL, "check-config", str(config)], capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def _start(config: Path, storage: Path, port: int) -> subprocess.Popen[bytes]:
    assert ALERTMANAGER is not None
    with (storage / "alertmanager.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={storage / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no gossip port: one Alertmanager, loopback only
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_an_alert_reaches_the_control_plane_and_is_resolved(tmp_path: Path) -> None:
    with serve(f"sqlite:///{tmp_path / 'taxiway.db'}") as api:
        token = api.store.create_token("alertmanager", "alerts", "test")
        config = _config(tmp_path, api.url, token)
        port = free_port()
        process = _start(config, tmp_path, port)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _ready(url) or process.poll() is not None, within=30, what="Alertmanager ready")
            assert process.poll() is None, (tmp_path / "alertmanager.log").read_text()
            # A minute ago: the end posted later (a second ago) must come after it.
            started = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(
                minutes=1
            )
            alert = {
                "labels": {
                    "alertname": "ErrorBudgetBurn",
                    "service": "hello",
                    "environment": "production",
                    "region": "us-east1",
                    "severity": "page",
                    "owner": "team-hello",
                },
                "annotations": {"summary": "hello burns its budget in us-east1"},
                "startsAt": started.isoformat(),
                "generatorURL": "http://127.0.0.1:9090/graph",
            }
            posted = httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=10)
            assert posted.status_code == 200, posted.text

            def recorded(status: str) -> list[records.Alert]:
                return [a for a in api.store.alerts("hello") if a.status == status]

            (firing,) = wait_for(lambda: recorded("firing"), within=30, what="the alert at the control plane")
            assert firing.starts_at == started
            assert (firing.owner, firing.labels["region"], firing.labels["severity"]) == (
                "team-hello",
                "us-east1",
                "page",
            )
            assert len(firing.fingerprint) == 16  # Alertmanager's own fingerprint

            ended = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
            resolved_alert = {**alert, "endsAt": ended.isoformat()}
            posted = httpx.post(f"{url}/api/v2/alerts", json=[resolved_alert], timeout=10)
            assert posted.status_code == 200, posted.text
            (resolved,) = wait_for(lambda: recorded("resolved"), within=30, what="the alert resolved")
            assert resolved.fingerprint == firing.fingerprint
            assert resolved.ends_at is not None
            assert abs((resolved.ends_at - ended).total_seconds()) < 1
            assert recorded("firing") == []
            actors = {e.actor for e in api.store.audit_log() if e.action.startswith("alert.")}
            assert actors == {"alerts:alertmanager"}
        finally:
            process.terminate()
            process.wait(timeout=20)
    log = (tmp_path / "alertmanager.log").read_text()
    assert token not in log
