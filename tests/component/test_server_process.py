"""``taxiway server init`` and ``taxiway server`` as real processes on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from taxiway.server.settings import Listen
from tests.conftest import EXAMPLES
from tests.fixtures.server_process import TAXIWAY, platform_flags, run_taxiway
from tests.fixtures.sockets import free_port
from tests.fixtures.waiting import wait_for


def test_listen_defaults_to_loopback() -> None:
    assert Listen.parse("7700") == Listen("127.0.0.1", 7700)
    assert Listen.parse(":7700").loopback
    assert not Listen.parse("0.0.0.0:7700").loopback
    assert Listen.parse("[::1]:80").url == "http://[::1]:80"


def test_init_writes_a_private_token_and_key_and_never_prints_them(tmp_path: Path) -> None:
    token_file = tmp_path / "admin.token"
    done = run_taxiway("server", "init", *platform_flags(tmp_path), "--token-file", str(token_file))
    assert done.returncode == 0, done.stderr
    token = token_file.read_text().strip()
    assert token.startswith("twy_")
    assert token not in done.stdout + done.stderr
    for path in (token_file, tmp_path / "server.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    again = run_taxiway("server", "init", *platform_flags(tmp_path), "--token-file", str(token_file))
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert token_file.read_text().strip() == token, "a refused init changed the token file"
    assert "Traceback" not in again.stderr


def test_server_refuses_to_start_without_its_key(tmp_path: Path) -> None:
    done = run_taxiway("server", *platform_flags(tmp_path), "--listen", f"127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "taxiway server init" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.timeout(60)
def test_server_serves_the_api_on_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    token_file = tmp_path / "admin.token"
    assert (
        run_taxiway("server", "init", *platform_flags(tmp_path), "--token-file", str(token_file)).returncode
        == 0
    )
    port = free_port()
    process = subprocess.Popen(
        [*TAXIWAY, "server", *platform_flags(tmp_path), "--listen", f"127.0.0.1:{port}"],
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


@pytest.mark.timeout(120)
def test_a_running_server_takes_new_services_and_reloads_its_files(tmp_path: Path) -> None:
    topology, inventory = tmp_path / "topology.yaml", tmp_path / "inventory.yaml"
    shutil.copy(EXAMPLES / "topology.yaml", topology)
    shutil.copy(EXAMPLES / "inventory.yaml", inventory)
    files = [
        "--database",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        "--topology",
        str(topology),
        "--inventory",
        str(inventory),
        "--key-file",
        str(tmp_path / "server.key"),
    ]
    token_file = tmp_path / "admin.token"
    assert run_taxiway("server", "init", *files, "--token-file", str(token_file)).returncode == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*TAXIWAY, "server", *files, "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            stdin=subprocess.DEVNULL,
        )
    headers = {"Authorization": f"Bearer {token_file.read_text().strip()}"}

    def services() -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in httpx.get(url + "/v1/inventory", headers=headers).json()["services"]}

    def answers() -> bool:
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            assert process.poll() is None, log.read_text()
            return False

    cli_env = {**os.environ, "TAXIWAY_URL": url, "TAXIWAY_TOKEN_FILE": str(token_file)}
    cli_env.pop("TAXIWAY_TOKEN", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*TAXIWAY, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=cli_env,
            stdin=subprocess.DEVNULL,
        )

    try:
        wait_for(answers, what="the server to answer", within=20)
        # A new service, registered and deployed while the server runs: no file, no restart.
        httpbin = tmp_path / "httpbin"
        shutil.copytree(EXAMPLES / "hello", httpbin, ignore=shutil.ignore_patterns("__pycache__"))
        manifest = httpbin / ".taxiway" / "service.yaml"
        manifest.write_text(manifest.read_text().replace("name: hello", "name: httpbin"))
        unknown = cli("deploy", str(httpbin), "--env", "production", "--no-wait")
        assert unknown.returncode == 1
        assert f"add it to the inventory file {inventory}" in unknown.stderr
        assert "taxiway services create httpbin" in unknown.stderr
        regions = "us-east1,europe-west1,asia-northeast3"
        created = cli(
            "services",
            "create",
            "httpbin",
            "--owner",
            "team-hello",
            "--regions",
            regions,
            "--global-load-balancing",
        )
        assert created.returncode == 0, created.stderr
        deployed = cli("deploy", str(httpbin), "--env", "production", "--no-wait")
        assert deployed.returncode == 0, deployed.stderr
        assert "production now points at revision 1" in deployed.stdout

        # SIGHUP: an edit the mtime poll cannot see (same size, inode and times) is picked up.
        before = inventory.stat()
        with inventory.open("r+") as handle:
            text = handle.read()
            handle.seek(0)
            handle.write(text.replace("max_instances: 40", "max_instances: 41"))
        os.utime(inventory, ns=(before.st_atime_ns, before.st_mtime_ns))
        process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: services()["hello"]["quota"]["max_instances"] == 41, what="the SIGHUP reload", within=20
        )

        # A changed file is picked up by itself.
        inventory.write_text(
            inventory.read_text() + "  - name: datasette\n    owners: [team-data]\n    regions: [us-east1]\n"
        )
        wait_for(lambda: "datasette" in services(), what="the reload on change", within=20)

        # A bad file is logged with file:line and the previous one kept.
        good = inventory.read_text()
        inventory.write_text(good.replace("regions: [us-east1]\n", "regions: [mars-north1]\n"))
        wait_for(
            lambda: f"{inventory}:" in log.read_text() and "unknown region" in log.read_text(),
            what="the refusal",
            within=20,
        )
        assert "keeping the previous topology and inventory" in log.read_text()
        assert services()["datasette"]["regions"] == ["us-east1"]
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert token_file.read_text().strip() not in log.read_text(), "the server logged a token"
