"""Apps Taxiway did not write, through the PoPs, and a failed deploy that changes the health
path under load through a PoP.

In the dev world (``taxiway dev up``: control plane, a satellite, ingress and instances
per region, an edge per PoP, the WAN emulator), three services are deployed:

- ``greeter`` (examples/greeter-asgi): Starlette under uvicorn, which answers 400 to an
  HTTP/1.1 request without ``Host`` and serves health only on ``/-/ready``;
- ``guestbook`` (examples/guestbook-wsgi): a WSGI app under gunicorn;
- ``hello``, then a revision of it whose readiness, startup and monitor path is one the
  app does not serve. That deploy fails; through fra, under load the whole time, not one
  request fails, and the PoPs keep checking the path the serving instances answer.

The ``local`` runtime runs the machine's ``python3``, so the copies deployed here carry
their dependencies in ``vendor/`` (copied from this test's virtualenv), as an owner would.
Loopback only; every wait is a condition polled against a deadline.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLES
from tests.e2e.world import World, wait_for

pytestmark = [pytest.mark.slow]

DOMAIN = "taxiway.test"
MAX_LOAD_REQUESTS = 4000
MAX_LOAD_SECONDS = 90.0
LIVENESS_WINDOW = 35.0
"""Longer than the default liveness probe takes to restart an instance that fails it
(period 10 s x threshold 3): greeter's instances must not restart in that time."""


def get(pop_url: str, service: str, client: httpx.Client | None = None) -> httpx.Response:
    send = client.get if client is not None else httpx.get
    return send(pop_url + "/", headers={"Host": f"{service}.{DOMAIN}"}, timeout=10)


@dataclass
class Load:
    """Sequential GETs of one service through one PoP in a thread, bounded in count and time."""

    url: str
    service: str
    answers: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        with httpx.Client(trust_env=False) as client:
            for _ in range(MAX_LOAD_REQUESTS):
                if self.stop.is_set() or time.monotonic() >= deadline:
                    return
                try:
                    response = get(self.url, self.service, client)
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                    continue
                self.answers += 1
                if response.status_code != 200:
                    self.failures.append(
                        f"{response.status_code} from {response.headers.get('x-taxiway-region')}"
                    )


VENDORED = (
    "uvicorn",
    "starlette",
    "anyio",
    "idna",
    "h11",
    "click",
    "gunicorn",
    "packaging",
    "typing_extensions",
)
"""What the examples import, beyond the standard library, and what that imports."""


def copy_for_this_python(example: str, root: Path) -> Path:
    """The example with its dependencies vendored (``vendor/`` on ``PYTHONPATH``), as an
    owner ships an app to the ``local`` runtime: isolated instances run as their service's
    own user, who cannot reach this test's virtualenv, only the machine's ``python3``."""
    target = root / example
    shutil.copytree(EXAMPLES / example, target)
    vendor = target / "vendor"
    vendor.mkdir()
    for name in VENDORED:
        spec = importlib.util.find_spec(name)
        assert spec is not None, f"{name} is not installed for the tests"
        assert spec.origin is not None, name
        if spec.submodule_search_locations:
            skip = shutil.ignore_patterns("__pycache__")
            shutil.copytree(Path(spec.origin).parent, vendor / name, ignore=skip)
        else:
            shutil.copy2(spec.origin, vendor / Path(spec.origin).name)
    manifest = target / ".taxiway" / "service.yaml"
    text = manifest.read_text()
    assert "\n  env:\n" in text, "the example's manifest has no spec.env to extend"
    manifest.write_text(text.replace("\n  env:\n", "\n  env:\n    PYTHONPATH: vendor\n", 1))
    return target


def status_rows(world: World, env: dict[str, str], service: str) -> list[dict[str, Any]]:
    result = world.taxiway("status", service, "--json", admin=False, env=env)
    assert result.returncode in (0, 1), result.stderr
    return [r for r in json.loads(result.stdout) if r["environment"] == "production"]


def pop_config(world: World, env: dict[str, str], pop: str) -> dict[str, Any]:
    dev = json.loads((Path(env["TAXIWAY_DEV_DIR"]) / "dev.json").read_text())
    token = dev["token"]
    response = httpx.get(
        f"{dev['control_plane']}/v1/pops/{pop}/config",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        trust_env=False,
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


@pytest.mark.timeout(300)
def test_uvicorn_and_gunicorn_apps_serve_through_the_pops_and_a_failed_health_path_deploy_drops_nothing(
    bare_world: World,
) -> None:
    world = bare_world
    dev_dir = world.root / "dev"
    env = {"TAXIWAY_DEV_DIR": str(dev_dir)}
    try:
        up = world.dev_up(env)
        assert up.returncode == 0, up.stdout + up.stderr + world.logs()
        pops: dict[str, str] = json.loads((dev_dir / "dev.json").read_text())["pops"]

        # 1. Apps nobody here wrote, as their owners would run them.
        servers = {"greeter": "uvicorn", "guestbook": "gunicorn"}
        for example in ("greeter-asgi", "guestbook-wsgi"):
            path = copy_for_this_python(example, world.root)
            deployed = world.taxiway("deploy", str(path), "--env", "production", admin=False, env=env)
            assert deployed.returncode == 0, deployed.stdout + deployed.stderr + world.logs()
        ready_at = time.monotonic()
        for service, server in servers.items():
            rows = status_rows(world, env, service)
            regions = {r["region"] for r in rows}
            assert all(r["phase"] == "ready" for r in rows)
            for pop, url in pops.items():

                def answered(url: str = url, service: str = service) -> dict[str, Any] | None:
                    response = get(url, service)
                    return response.json() if response.status_code == 200 else None

                body = wait_for(answered, within=30, what=f"{service} through {pop}")
                assert body["server"] == server
                assert body["region"] in regions

        # 2. hello serves; then a revision whose health path the app does not serve.
        deployed = world.taxiway("deploy", "examples/hello", "--env", "production", admin=False, env=env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        wait_for(lambda: get(pops["fra"], "hello").status_code == 200, within=30, what="hello through fra")
        broken = world.root / "hello-broken"
        shutil.copytree(EXAMPLES / "hello", broken)
        manifest = broken / ".taxiway" / "service.yaml"
        text = manifest.read_text()
        text = text.replace(
            "readiness: {path: /health, period_seconds: 2}",
            "readiness: {path: /ready-v2, period_seconds: 1}\n"
            "    startup: {period_seconds: 1, failure_threshold: 3}",
        )
        text = text.replace(
            "monitor: {protocol: http, path: /health,", "monitor: {protocol: http, path: /ready-v2,"
        )
        assert text.count("/ready-v2") == 2
        manifest.write_text(text)

        load = Load(pops["fra"], "hello")
        runner = threading.Thread(target=load.run, name="load-fra", daemon=True)
        runner.start()
        try:
            wait_for(lambda: load.answers >= 30, within=20, what="fra serving hello under load")
            failed = world.taxiway(
                "deploy",
                str(broken),
                "--env",
                "production",
                "--timeout",
                "60s",
                admin=False,
                timeout=120,
                env=env,
            )
            assert failed.returncode == 1, failed.stdout + failed.stderr
            assert "/ready-v2" in failed.stdout + failed.stderr

            # Every PoP keeps checking each pool on the path its serving revision answers.
            def checked_on_health(pop: str) -> list[dict[str, Any]]:
                return [
                    p
                    for s in pop_config(world, env, pop)["services"]
                    if s["service"] == "hello"
                    for p in s["pools"]
                    if p.get("monitor_path") == "/health"
                ]

            for pop in pops:
                pools = wait_for(
                    functools.partial(checked_on_health, pop),
                    within=30,
                    what=f"{pop} checking hello's pools on /health",
                )
                assert len(pools) == 3
            mark = load.answers
            wait_for(
                lambda: load.answers >= mark + 100, within=45, what="100 more requests after the failure"
            )
        finally:
            load.stop.set()
            runner.join(timeout=15)
        print(f"\nhello through fra, failed deploy: {load.answers} requests, {len(load.failures)} failed")
        assert load.failures == [], load.failures[:5]
        rows = status_rows(world, env, "hello")
        assert {r["phase"] for r in rows} == {"failed"}
        assert all(
            i["in_rotation"] for r in rows for i in r["instances"] if i["revision"] != r["revision"]
        ), "the old revision serves on in every region"

        # 3. greeter's probes all check /-/ready: none of its instances was restarted.
        wait_for(
            lambda: time.monotonic() - ready_at >= LIVENESS_WINDOW, within=LIVENESS_WINDOW + 5, what="time"
        )
        restarts = [i["restarts"] for r in status_rows(world, env, "greeter") for i in r["instances"]]
        assert restarts, "greeter reports its instances"
        assert set(restarts) == {0}, restarts
    finally:
        down = world.taxiway("dev", "down", "--purge", admin=False, timeout=120, env=env)
        assert down.returncode == 0, down.stdout + down.stderr
    assert world.processes() == []
