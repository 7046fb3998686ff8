"""``taxiway edge`` as a real process: it starts HAProxy, leaves it serving on SIGTERM, and
a second one adopts it; the token never reaches argv, the log or HAProxy's environment.

The command is run through its click object (``python -c``) until the lead registers it
in ``taxiway.cli.main``; the flags are the ones ``taxiway edge`` takes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from taxiway.cli import edge_commands
from taxiway.errors import ConfigurationError
from taxiway.haproxy import layout, process
from tests.conftest import EXAMPLES
from tests.fixtures.edge_world import (
    DOMAIN,
    HOST,
    TOKEN,
    EdgeWorld,
    edge_world,
    served_by,
    service_config,
)
from tests.fixtures.haproxy_world import request
from tests.fixtures.waiting import wait_for

RUN_EDGE = "from taxiway.cli.edge_commands import edge; edge()"


@pytest.fixture
def w() -> Iterator[EdgeWorld]:
    with edge_world() as created:
        yield created


class EdgeProcess:
    def __init__(self, w: EdgeWorld, *, token_file: Path | None, env: dict[str, str] | None = None) -> None:
        self.state_dir = w.root / "iad"
        self.log = w.root / f"edge-{len(list(w.root.glob('edge-*.log')))}.log"
        argv = [
            sys.executable,
            "-c",
            RUN_EDGE,
            "--pop",
            "iad",
            "--control-plane",
            w.cp.url,
            "--state-dir",
            str(self.state_dir),
            "--topology",
            str(EXAMPLES / "topology.yaml"),
            "--domain",
            DOMAIN,
            "--report-every",
            "0.2",
        ]
        if token_file is not None:
            argv += ["--token-file", str(token_file)]
        environment = {k: v for k, v in os.environ.items() if k != "TAXIWAY_TOKEN"}
        environment.update(env or {})
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=environment)
        self.argv = argv

    def port(self) -> int | None:
        try:
            data = json.loads((self.state_dir / "edge.json").read_text())
        except (OSError, ValueError):
            return None
        return int(data["listen"]["port"])

    def serves(self, region: str) -> bool:
        port = self.port()
        return port is not None and served_by(request(port, HOST)) == region

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=15)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.mark.slow
def test_sigterm_leaves_haproxy_serving_and_the_next_edge_adopts_it(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", 0.040), w.region("europe-west1", 0.005)
    w.cp.set_services([service_config([far, near])])
    token_file = w.root / "edge.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    haproxy = process.Haproxy(layout.Layout(w.root / "iad" / "haproxy"))
    w.scene.haproxies.append(haproxy)  # stopped at the end

    first = EdgeProcess(w, token_file=token_file)
    try:
        wait_for(lambda: first.serves("europe-west1"), within=15, what="the edge to steer to the near region")
        pid = haproxy.master_pid()
        assert pid is not None
        assert first.stop(signal.SIGTERM) == 0
    finally:
        first.kill()
    assert haproxy.master_pid() == pid
    assert first.serves("europe-west1")
    output = first.output()
    assert "keeps serving" in output
    assert TOKEN not in output
    assert TOKEN not in " ".join(first.argv)

    w.cp.stop()  # the second edge starts with the control plane away, token from the environment
    second = EdgeProcess(w, token_file=None, env={"TAXIWAY_TOKEN": TOKEN})
    try:
        wait_for(lambda: "(adopted)" in second.output(), within=15, what="the second edge to adopt HAProxy")
        assert haproxy.master_pid() == pid
        assert second.serves("europe-west1")
        assert second.stop(signal.SIGINT) == 0
    finally:
        second.kill()
    assert TOKEN not in second.output()
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert b"TAXIWAY_TOKEN" not in environ
    assert TOKEN.encode() not in environ
    assert haproxy.master_pid() == pid


def test_a_pop_missing_from_the_topology_or_a_missing_token_is_a_clear_error(w: EdgeWorld) -> None:
    runner = CliRunner()
    base = [
        "--control-plane",
        w.cp.url,
        "--state-dir",
        str(w.root / "x"),
        "--topology",
        str(EXAMPLES / "topology.yaml"),
    ]
    unknown = runner.invoke(edge_commands.edge, ["--pop", "nowhere", *base], env={"TAXIWAY_TOKEN": TOKEN})
    assert isinstance(unknown.exception, ConfigurationError)
    assert "PoP 'nowhere' is not in the topology" in str(unknown.exception)
    assert "iad, fra, icn" in str(unknown.exception)
    tokenless = runner.invoke(edge_commands.edge, ["--pop", "iad", *base], env={"TAXIWAY_TOKEN": ""})
    assert isinstance(tokenless.exception, ConfigurationError)
    assert "--token-file" in str(tokenless.exception)
    assert not (w.root / "x").exists()
