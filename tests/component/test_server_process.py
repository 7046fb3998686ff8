"""``taxiway server init`` and ``taxiway server`` as real processes on loopback."""

from __future__ import annotations

import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from taxiway.server.settings import Listen
from tests.conftest import EXAMPLES

TAXIWAY = [sys.executable, "-m", "taxiway.cli.main"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _platform(tmp_path: Path) -> list[str]:
    return [
        "--database",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        "--topology",
        str(EXAMPLES / "topology.yaml"),
        "--inventory",
        str(EXAMPLES / "inventory.yaml"),
        "--key-file",
        str(tmp_path / "server.key"),
    ]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TAXIWAY, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def test_listen_defaults_to_loopback() -> None:
    assert Listen.parse("7700") == Listen("127.0.0.1", 7700)
    assert Listen.parse(":7700").loopback
    assert not Listen.parse("0.0.0.0:7700").loopback
    assert Listen.parse("[::1]:80").url == "http://[::1]:80"


def test_init_writes_a_private_token_and_key_and_never_prints_them(tmp_path: Path) -> None:
    token_file = tmp_path / "admin.token"
    done = _run("server", "init", *_platform(tmp_path), "--token-file", str(token_file))
    assert done.returncode == 0, done.stderr
    token = token_file.read_text().strip()
    assert token.startswith("twy_")
    assert token not in done.stdout + done.stderr
    for path in (token_file, tmp_path / "server.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    again = _run("server", "init", *_platform(tmp_path), "--token-file", str(token_file))
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert token_file.read_text().strip() == token, "a refused init changed the token file"
    assert "Traceback" not in again.stderr


def test_server_refuses_to_start_without_its_key(tmp_path: Path) -> None:
    done = _run("server", *_platform(tmp_path), "--listen", f"127.0.0.1:{_free_port()}")
    assert done.returncode == 1
    assert "taxiway server init" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.timeout(60)
def test_server_serves_the_api_on_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    token_file = tmp_path / "admin.token"
    assert _run("server", "init", *_platform(tmp_path), "--token-file", str(token_file)).returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [*TAXIWAY, "server", *_platform(tmp_path), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.05)
        headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
        assert httpx.get(url + "/v1/whoami", headers=headers).json()["scope"] == "admin"
        assert httpx.get(url + "/v1/regions").status_code == 401
        assert "/v1/regions/{region}/definitions" in httpx.get(url + "/openapi.json").json()["paths"]
        regions = {r["name"] for r in httpx.get(url + "/v1/regions", headers=headers).json()}
        assert regions == {"us-east1", "europe-west1", "asia-northeast3"}
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert process.stderr is not None
    with process.stderr:
        log = process.stderr.read().decode()
    assert "Finished server process" in log, log
    assert token_file.read_text().strip() not in log, "the server logged a token"
