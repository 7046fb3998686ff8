"""``taxiway slo status`` and ``taxiway observability config`` as a user runs them.

``slo status`` is shown here against a stand-in for Prometheus's query API that answers
what a regional Prometheus evaluating hello's SLO rules answers (the real path, real
Prometheus servers in a dev world, is tests/e2e/test_observability.py): the table, the
JSON, every service when none is named, and a Prometheus that does not answer named
while the others are shown. ``observability config`` writes configurations promtool
accepts.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from taxiway.cli import main
from taxiway.observability import binaries
from tests.fixtures.sockets import free_port

BASE = {
    "service": "hello",
    "environment": "production",
    "sloth_service": "hello",
    "sloth_slo": "availability",
}
REGIONAL = {**BASE, "region": "europe-west1"}


def _vector(*samples: tuple[dict[str, str], float]) -> dict[str, Any]:
    return {"resultType": "vector", "result": [{"metric": m, "value": [1000.0, str(v)]} for m, v in samples]}


ANSWERS: dict[str, dict[str, Any]] = {
    "slo:objective:ratio": _vector((BASE, 0.999)),
    "slo:error_budget:ratio": _vector((BASE, 0.001)),
    "slo:time_period:days": _vector((BASE, 28)),
    "slo:period_burn_rate:ratio": _vector((REGIONAL, 30.0)),
    "slo:period_error_budget_remaining:ratio": _vector((REGIONAL, -29.0)),
    "slo:current_burn_rate:ratio": _vector((REGIONAL, 200.0)),
    "slo:sli_error:ratio_rate1h": _vector((REGIONAL, 0.05)),
    "ALERTS": _vector(({**REGIONAL, "slo": "availability", "severity": "page"}, 1)),
    "count by (service)": _vector(({"service": "hello"}, 2)),
}


class _Prometheus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query).get("query", [""])[0]
        if url.path == "/api/v1/query_range":
            data: dict[str, Any] = {
                "resultType": "matrix",
                "result": [{"metric": REGIONAL, "values": [[900.0, "1"], [950.0, "0.2"], [999.0, "-29"]]}],
            }
        else:
            data = next((a for k, a in ANSWERS.items() if query.startswith(k)), _vector())
        body = json.dumps({"status": "success", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Prometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def taxiway(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Result]:
    monkeypatch.setenv("TAXIWAY_DEV_DIR", str(tmp_path / "no-dev-world"))
    monkeypatch.setenv("TAXIWAY_CONFIG", str(tmp_path / "no-config.yaml"))

    def run(*args: str) -> Result:
        with pytest.raises(SystemExit) as exited:
            main.main(list(args))
        captured = capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 0, captured.out, captured.err)

    return run


def test_slo_status_shows_each_region_and_names_a_silent_prometheus(
    taxiway: Callable[..., Result], prometheus: str
) -> None:
    silent = f"http://127.0.0.1:{free_port()}"
    sources = ("--prometheus", f"europe-west1={prometheus}", "--prometheus", f"global={silent}")
    shown = taxiway("slo", "status", "hello", *sources, "--trend", "100s")
    assert shown.returncode == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if line.startswith("availability"))
    assert row.split()[:4] == ["availability", "europe-west1", "99.90%", "97.000%"]
    assert "-2900.0% (spent)" in row
    assert "200.0×" in row
    assert "50.0×" in row  # 5% over the last hour, against a 0.1% budget
    assert "page" in row
    assert "global: no answer" in shown.stdout

    as_json = taxiway("slo", "status", "hello", *sources, "--json")
    document = json.loads(as_json.stdout)
    (status,) = document["slos"]
    assert status["where"] == "europe-west1"
    assert status["error_budget_left"] == -29.0
    assert status["error_budget_left_seconds"] == pytest.approx(-29 * 0.001 * 28 * 86400)
    assert status["alerts_firing"] == ["page"]
    assert list(document["unreachable"]) == ["global"]


def test_slo_status_without_a_service_shows_every_service_with_slos(
    taxiway: Callable[..., Result], prometheus: str
) -> None:
    shown = taxiway("slo", "status", "--prometheus", f"europe-west1={prometheus}", "--json")
    assert shown.returncode == 0, shown.stderr
    assert [d["service"] for d in json.loads(shown.stdout)] == ["hello"]


def test_slo_status_says_what_to_configure_and_refuses_unknown_regions(
    taxiway: Callable[..., Result], prometheus: str
) -> None:
    nothing = taxiway("slo", "status", "hello")
    assert nothing.returncode == 1
    assert "no Prometheus configured" in nothing.stderr
    assert "Traceback" not in nothing.stderr
    malformed = taxiway("slo", "status", "hello", "--prometheus", "europe-west1")
    assert malformed.returncode == 1
    assert "expected NAME=URL" in malformed.stderr
    elsewhere = taxiway(
        "slo", "status", "hello", "--prometheus", f"europe-west1={prometheus}", "--region", "mars"
    )
    assert elsewhere.returncode == 2
    assert "no Prometheus for mars" in elsewhere.stderr


def _promtool_accepts(path: Path) -> None:
    checked = subprocess.run(
        [binaries.promtool(), "check", "config", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_observability_config_writes_what_promtool_accepts(
    taxiway: Callable[..., Result], tmp_path: Path
) -> None:
    regional = taxiway(
        "observability", "config", "--region", "us-east1", "--dir", str(tmp_path / "r"), "--no-rules",
        "--alertmanager", "127.0.0.1:9093", "--remote-write", "http://127.0.0.1:9090/api/v1/write",
        "--interval", "10s",
    )  # fmt: skip
    assert regional.returncode == 0, regional.stderr
    assert "--prometheus-dir" in regional.stdout
    _promtool_accepts(tmp_path / "r" / "prometheus.yml")
    token = tmp_path / "metrics.token"
    token.write_text("a-secret-token\n")
    central = taxiway(
        "observability", "config", "--global", "--dir", str(tmp_path / "g"), "--no-rules",
        "--control-plane", "127.0.0.1:7700", "--metrics-token-file", str(token),
    )  # fmt: skip
    assert central.returncode == 0, central.stderr
    _promtool_accepts(tmp_path / "g" / "prometheus.yml")
    assert "a-secret-token" not in (tmp_path / "g" / "prometheus.yml").read_text()
    assert "--web.enable-remote-write-receiver" in central.stdout


def test_observability_config_refuses_what_does_not_go_together(
    taxiway: Callable[..., Result], tmp_path: Path
) -> None:
    neither = taxiway("observability", "config", "--dir", str(tmp_path), "--no-rules")
    assert neither.returncode == 2
    assert "one of --region REGION or --global" in neither.stderr
    mixed = taxiway(
        "observability", "config", "--region", "us-east1", "--dir", str(tmp_path), "--no-rules",
        "--control-plane", "127.0.0.1:7700",
    )  # fmt: skip
    assert mixed.returncode == 2
    assert not (tmp_path / "prometheus.yml").exists()
    rules_without_plane = taxiway(
        "observability", "config", "--region", "us-east1", "--dir", str(tmp_path / "x")
    )
    assert rules_without_plane.returncode == 1
    assert "--no-rules" in rules_without_plane.stderr
    assert not (tmp_path / "x").exists()
