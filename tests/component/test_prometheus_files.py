"""A real Prometheus on the configuration Taxiway renders, fed through the files it keeps.

What a regional Prometheus scrapes comes from the ``targets/`` files a satellite writes:
the platform's labels must arrive on every series and win over a service's own, and rule
files written (or removed) must be loaded after the reload asked for.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from taxiway.observability import binaries
from taxiway.observability.prometheus_files import PrometheusFiles
from taxiway.plan.observability import prometheus_config, scrape_targets
from tests.fixtures import prometheus
from tests.fixtures.waiting import wait_for

EXPOSITION = b"""# HELP app_jobs_total Jobs done.
# TYPE app_jobs_total counter
app_jobs_total{region="spoofed",service="other"} 7
"""


class _Exporter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = EXPOSITION if self.path == "/custom-metrics" else b"not here\n"
        self.send_response(200 if self.path == "/custom-metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def exporter() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _regional(directory: Path) -> Path:
    timing = prometheus_config.Timing(scrape_interval=1, evaluation_interval=1, file_refresh=1)
    config = prometheus_config.Regional("europe-west1", directory, timing=timing)
    path = directory / "prometheus.yml"
    path.write_text(prometheus_config.render(prometheus_config.regional(config)))
    return path


RULES = """groups:
  - name: taxiway-test
    rules:
      - record: app:jobs:sum
        expr: sum by (region, service) (app_jobs_total)
"""


def test_platform_labels_win_and_rules_follow_the_files(tmp_path: Path, exporter: str) -> None:
    directory = tmp_path / "europe-west1"
    directory.mkdir()
    files = PrometheusFiles(directory)
    target = scrape_targets.InstanceTarget(
        "hello", "production", 4, "hello-production-r4-0", exporter, metrics_path="/custom-metrics"
    )
    targets = scrape_targets.regional(
        "europe-west1", ingress=None, request_log=None, satellite=None, instances=[target]
    )
    files.publish(targets, {})
    with prometheus.running(_regional(directory), tmp_path / "data") as running, running.api() as api:
        files.url = running.url
        samples = wait_for(lambda: api.query("app_jobs_total"), within=30, what="the instance scraped")
        labels = samples[0].labels
        assert labels["region"] == "europe-west1"
        assert labels["service"] == "hello"
        assert labels["environment"] == "production"
        assert labels["revision"] == "4"
        assert labels["instance"] == "hello-production-r4-0"
        assert labels["exported_region"] == "spoofed"
        assert labels["exported_service"] == "other"

        published = files.publish(targets, {"hello-production": RULES})
        assert published.rules_changed
        assert published.reloaded
        recorded = wait_for(lambda: api.query("app:jobs:sum"), within=30, what="the recording rule evaluated")
        assert recorded[0].labels == {
            "__name__": "app:jobs:sum",
            "region": "europe-west1",
            "service": "hello",
        }
        assert recorded[0].value == 7

        again = files.publish(targets, {"hello-production": RULES})
        assert not again.rules_changed
        assert not again.reloaded
        removed = files.publish(targets, {})
        assert removed.rules_changed
        assert removed.reloaded
        assert not list((directory / "rules").iterdir())


def test_rendered_configurations_pass_promtool(tmp_path: Path) -> None:
    token = tmp_path / "metrics.token"
    token.write_text("not-a-token\n")
    regional = prometheus_config.Regional(
        "us-east1",
        tmp_path,
        alertmanagers=("127.0.0.1:9093",),
        remote_write="http://127.0.0.1:9090/api/v1/write",
    )
    central = prometheus_config.Global(
        tmp_path, ("127.0.0.1:9093",), prometheus_config.ControlPlaneTarget("127.0.0.1:7700", token)
    )
    for name, document in (
        ("regional", prometheus_config.regional(regional)),
        ("global", prometheus_config.global_(central)),
    ):
        path = tmp_path / f"{name}.yml"
        path.write_text(prometheus_config.render(document))
        result = subprocess.run(
            [binaries.promtool(), "check", "config", str(path)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert "not-a-token" not in (tmp_path / "global.yml").read_text()
