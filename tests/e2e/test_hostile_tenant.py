"""A hostile tenant beside a well-behaved one, in the same regions of one dev world.

``taxiway dev up`` (control plane, a satellite, ingress and instances per region, an edge
per PoP, the WAN emulator). Two owners, each with an owner token of their own service:

- guestbook's owner is hostile (europe-west1 and asia-northeast3): manifests whose
  readiness path holds a newline, a ``#`` or a space (refused by the CLI and, sent by
  hand, by the control plane: a message naming the file and the field, nothing stored);
  a revision whose instances exit at once (a crash loop, left running; stored and
  pointed at with the CLI's client code in this process, as ``deploy --no-wait`` does);
  an upload over the control plane's bound, its bytes really sent in chunks (413
  problem+json, nothing stored);
- hello's owner deploys meanwhile, in those same regions and one more: the deploy
  succeeds, every region reports hello fresh and ready, and hello serves through
  europe-west1's ingress and the fra PoP with not one failed request under bounded
  sequential load for the whole time.

The ``local`` runtime runs the host's interpreter, so the hostile copy names this test's
Python. Loopback only; every wait is a condition polled against a deadline.
"""

from __future__ import annotations

import functools
import json
import select
import shutil
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from taxiway.client import desired, upload
from taxiway.client.http import ControlPlane
from taxiway.dev import readiness
from taxiway.server import guard
from taxiway.spec import service_files
from tests.conftest import EXAMPLES
from tests.e2e.world import HELLO_INSTANCES, World, status_rows, wait_for

pytestmark = [pytest.mark.slow]

DOMAIN = "taxiway.test"
HOSTILE = "guestbook"
SHARED_REGIONS = ("europe-west1", "asia-northeast3")
BAD_PATHS = {"newline": "/healthz\\nx", "hash": "/healthz#x", "space": "/health z"}
"""Readiness paths as YAML double-quoted text: a newline, a '#' and a space."""
MAX_LOAD_REQUESTS = 3000
MAX_LOAD_SECONDS = 120.0


@dataclass
class Load:
    """Sequential GETs of hello, alternating between targets, bounded in count and time."""

    targets: dict[str, str]
    answers: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    def run(self) -> None:
        deadline = time.monotonic() + MAX_LOAD_SECONDS
        names = sorted(self.targets)
        with httpx.Client(trust_env=False, timeout=10) as client:
            for count in range(MAX_LOAD_REQUESTS):
                if self.stop.is_set() or time.monotonic() >= deadline:
                    return
                name = names[count % len(names)]
                try:
                    response = client.get(self.targets[name] + "/", headers={"Host": f"hello.{DOMAIN}"})
                except httpx.HTTPError as exc:
                    self.failures.append(f"{name}: {exc!r}")
                    continue
                self.answers[name] = self.answers.get(name, 0) + 1
                if response.status_code != 200:
                    self.failures.append(f"{name}: {response.status_code}")


def hostile_copy(root: Path, name: str, *, readiness: str | None = None, command: str | None = None) -> Path:
    target = root / name
    shutil.copytree(EXAMPLES / "guestbook-wsgi", target, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = target / ".taxiway" / "service.yaml"
    text = manifest.read_text()
    if readiness is not None:
        text = text.replace("readiness: {path: /healthz,", f'readiness: {{path: "{readiness}",')
    if command is not None:
        text = text.replace(
            'command: [python3, -m, gunicorn, --config, gunicorn.conf.py, "app:application"]', command
        )
    manifest.write_text(text)
    return target


def huge_upload(control_plane: str, token: str) -> tuple[int, str, bytes]:
    """POST a chunked revision body past the upload bound, really sending its bytes until
    the control plane answers; its status, content type and body."""
    where = urlsplit(control_plane)
    assert where.hostname == "127.0.0.1"
    head = (
        f"POST /v1/services/{HOSTILE}/revisions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"A" * (1024 * 1024)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    budget = guard.MAX_UPLOAD_BYTES // len(piece) + 8
    with socket.create_connection((where.hostname, where.port or 80), timeout=30) as connection:
        opening = b'{"files": {"service.yaml": "'
        connection.sendall(head.encode() + b"%x\r\n%s\r\n" % (len(opening), opening))
        for _ in range(budget):
            if select.select([connection], [], [], 0)[0]:
                break  # it answered: stop sending
            try:
                connection.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while True:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    header_text, _, payload = answer.partition(b"\r\n\r\n")
    lines = header_text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers.get("content-type", ""), payload


def owner_token(control_plane: str, admin: str, service: str) -> str:
    response = httpx.post(
        f"{control_plane}/v1/tokens",
        json={"name": f"{service}-ci", "scope": "owner", "services": [service]},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
        trust_env=False,
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def call(control_plane: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        method,
        control_plane + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        trust_env=False,
        **kw,
    )


@pytest.mark.timeout(300)
def test_a_hostile_tenant_leaves_a_well_behaved_one_deploying_reporting_and_serving(
    bare_world: World,
) -> None:
    world = bare_world
    started = time.monotonic()
    dev_dir = world.root / "dev"
    base = {"TAXIWAY_DEV_DIR": str(dev_dir)}
    phases: dict[str, float] = {}

    def done(phase: str) -> None:
        phases[phase] = round(time.monotonic() - started, 1)

    try:
        up = world.dev_up(base)
        assert up.returncode == 0, up.stdout + up.stderr + world.logs()
        dev = json.loads((dev_dir / "dev.json").read_text())
        cp, admin = dev["control_plane"], dev["token"]
        tokens = {service: owner_token(cp, admin, service) for service in ("hello", HOSTILE)}
        as_owner = {s: {**base, "TAXIWAY_URL": cp, "TAXIWAY_TOKEN": t} for s, t in tokens.items()}

        def taxiway(service: str, *args: str, timeout: float = 90.0) -> Any:
            return world.taxiway(*args, admin=False, env=as_owner[service], timeout=timeout)

        def hostile_revisions() -> list[Any]:
            listed = call(cp, tokens[HOSTILE], "GET", f"/v1/services/{HOSTILE}/revisions")
            assert listed.status_code == 200, listed.text
            found: list[Any] = listed.json()
            return found

        done("dev up")
        # 1. Bad probe paths: refused by the CLI and by the control plane; nothing stored.
        for kind, path in BAD_PATHS.items():
            directory = hostile_copy(world.root, f"bad-{kind}", readiness=path)
            if kind == "newline":  # the CLI refuses before sending (one run: each costs seconds)
                refused = taxiway(HOSTILE, "deploy", str(directory), "--env", "production", "--no-wait")
                assert refused.returncode == 1, refused.stdout + refused.stderr
                assert "service.yaml" in refused.stderr
                assert "spec.probes.readiness.path" in refused.stderr
                assert "Traceback" not in refused.stderr
            # The control plane, sent the files by hand, refuses each the same way.
            files = {"service.yaml": (directory / ".taxiway" / "service.yaml").read_text()}
            by_hand = call(
                cp, tokens[HOSTILE], "POST", f"/v1/services/{HOSTILE}/revisions", json={"files": files}
            )
            assert by_hand.status_code == 422, (kind, by_hand.text)
            assert by_hand.headers["content-type"] == "application/problem+json"
            problem = json.dumps(by_hand.json())
            assert ".taxiway/service.yaml" in problem
            assert "readiness" in problem
        assert hostile_revisions() == [], "a refused manifest stores nothing"

        done("bad paths")
        # 2. A crash loop: every instance exits at once; left running, not waited for.
        crashing = hostile_copy(
            world.root,
            "crash-loop",
            command=f'command: [{sys.executable}, -c, "raise SystemExit(3)"]',
        )
        text = (crashing / ".taxiway" / "service.yaml").read_text()
        (crashing / ".taxiway" / "service.yaml").write_text(
            text.replace(
                "readiness: {path: /healthz, period_seconds: 2}",
                "readiness: {path: /healthz, period_seconds: 1}\n"
                "    startup: {period_seconds: 1, failure_threshold: 3}",
            )
        )
        # What `deploy --no-wait` does, in this process (a CLI run costs seconds here).
        with ControlPlane(cp, tokens[HOSTILE]) as client:
            payload = upload.service_upload(service_files.find(crashing))
            created = upload.create_revision(client, HOSTILE, payload, "production")
            desired.point(client, HOSTILE, "production", created.number, 0)

        done("crash loop deployed")
        # 3. hello deploys into the same regions meanwhile, and serves.
        deployed = taxiway("hello", "deploy", "examples/hello", "--env", "production", "--timeout", "90s")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr + world.logs()
        targets = {
            "fra": dev["pops"]["fra"],
            "europe-west1 ingress": dev["regions"]["europe-west1"]["ingress"],
        }

        def serves(url: str) -> bool:
            answer = httpx.get(url + "/", headers={"Host": f"hello.{DOMAIN}"}, timeout=10, trust_env=False)
            return answer.status_code == 200

        for name, url in targets.items():
            wait_for(functools.partial(serves, url), within=30, what=f"hello through {name}")
        done("hello deployed")
        load = Load(targets)
        runner = threading.Thread(target=load.run, name="load-hello", daemon=True)
        runner.start()
        try:
            wait_for(lambda: load.total >= 30, within=20, what="hello serving under load")

            # 4. An upload over the bound, its bytes really sent: 413, nothing stored.
            before = len(hostile_revisions())
            status, content_type, answered = huge_upload(cp, tokens[HOSTILE])
            assert status == 413, answered[:300]
            assert content_type == "application/problem+json"
            assert len(hostile_revisions()) == before

            done("huge upload")

            # 5. The crash loop runs on: its regions say so, on guestbook only.
            def hostile_failing() -> list[dict[str, Any]] | None:
                rows = status_rows(cp, tokens[HOSTILE], HOSTILE)
                restarts = [sum(i.get("restarts", 0) for i in r["instances"]) for r in rows]
                failing = {
                    r["region"] for r, n in zip(rows, restarts, strict=True) if r["phase"] == "failed" or n
                }
                return rows if failing == set(SHARED_REGIONS) else None

            wait_for(hostile_failing, within=60, what="guestbook's crash loop reported in both regions")

            done("crash loop reported")
            # 6. hello: every region reports, fresh and ready, after all of that.
            since = datetime.now(UTC) - timedelta(seconds=1)

            def hello_fresh() -> list[dict[str, Any]] | None:
                rows = {r["region"]: r for r in status_rows(cp, tokens["hello"], "hello")}
                for region, count in HELLO_INSTANCES.items():
                    row = rows.get(region)
                    if row is None or row["phase"] != "ready" or row["ready_instances"] != count:
                        return None
                    if row["revision"] != row["desired_revision"]:
                        return None
                    reported = readiness.parse_time(row.get("reported_at"))
                    if reported is None or reported < since or row.get("stale"):
                        return None
                return list(rows.values())

            wait_for(hello_fresh, within=30, what="hello reported fresh and ready in every region")
            done("hello fresh")
            mark = load.total
            wait_for(lambda: load.total >= mark + 30, within=45, what="30 more requests of hello")
        finally:
            load.stop.set()
            runner.join(timeout=15)
        print(
            f"\nhello beside a hostile tenant: {load.answers} answers, {len(load.failures)} failed, "
            f"{time.monotonic() - started:.1f}s; phases done at {phases}"
        )
        assert load.failures == [], load.failures[:5]
        assert all(load.answers.get(name, 0) > 0 for name in targets), load.answers
    finally:
        down = world.taxiway("dev", "down", "--purge", admin=False, timeout=120, env=base)
        assert down.returncode == 0, down.stdout + down.stderr
    assert world.processes() == []
