"""A small world of real processes for end-to-end tests: a control plane and satellites.

The tests start ``taxiway server`` and one ``taxiway satellite`` per region directly (not
through the dev supervisor), so a test decides alone when a process dies and when it
comes back — the supervisor would restart it. The dev supervisor has its own test
(``test_dev_world.py``). Everything listens on 127.0.0.1, uses short timings, and
lives under one temporary directory::

    ROOT/cp/        the control plane's SQLite database, sealing key and admin token
    ROOT/tokens/    each satellite's token
    ROOT/regions/R/ each satellite's state directory (instances under runtime/)
    ROOT/logs/      every process's output (printed when a test fails)

Which processes are the test's: every process it starts carries ``TAXIWAY_E2E_MARKER``
in its environment (inherited by the satellites' shims); instances get a clean
environment from the local driver, so they are found as descendants of those shims, or
by a working directory or command line under ROOT. Teardown stops everything and fails
the test if anything of it is still alive.

Waiting is always a condition polled against a deadline, never a bare sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

from taxiway.client import desired
from taxiway.client import regions as region_list
from taxiway.client import status as client_status
from taxiway.client.http import ControlPlane
from taxiway.dev import ingresses as dev_ingresses
from taxiway.dev import instances as dev_instances
from taxiway.dev import readiness
from taxiway.errors import TransientError
from taxiway.runtime import process
from tests.conftest import EXAMPLES
from tests.fixtures import waiting
from tests.fixtures.sockets import free_port

ROOT = EXAMPLES.parent
REGIONS = ("us-east1", "europe-west1", "asia-northeast3")
HELLO_INSTANCES = {"us-east1": 2, "europe-west1": 3, "asia-northeast3": 2}
"""What examples/hello runs in production: 2 instances per region, 3 in europe-west1."""
SATELLITE_TIMING = ("--tick", "0.2", "--report-every", "0.5", "--backoff-initial", "0.3")
MARKER_ENV = "TAXIWAY_E2E_MARKER"


T = TypeVar("T")
NOT_YET = (httpx.HTTPError, TransientError, OSError, ValueError, KeyError, AssertionError)
"""What a world still starting answers with instead of the awaited state."""


def wait_for(condition: Callable[[], T | None], *, within: float, what: str, every: float = 0.1) -> T:
    """:func:`tests.fixtures.waiting.wait_for`, where a world still starting (a refused
    connection, a half-written file, an answer without the field yet) counts as "not yet"."""
    return waiting.wait_for(condition, within=within, what=what, every=every, tolerate=NOT_YET)


@dataclass
class Running:
    name: str
    popen: subprocess.Popen[bytes]
    identity: process.ProcessId
    log: IO[bytes]


@dataclass(frozen=True)
class Instance:
    """One instance process as the local driver's files and /proc show it."""

    instance_id: str
    region: str
    identity: process.ProcessId
    port: int
    datacenter: str
    node: str

    @property
    def pid(self) -> int:
        return self.identity.pid


@dataclass
class World:
    root: Path
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    port: int = field(default_factory=free_port)
    regions: tuple[str, ...] = REGIONS
    control_plane: Running | None = None
    satellites: dict[str, Running] = field(default_factory=dict)
    admin_token: str = ""
    _seen: list[process.ProcessId] = field(default_factory=list)

    # -- paths and environment --------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> str:
        return f"sqlite:///{self.root / 'cp' / 'taxiway.db'}"

    def token_file(self, region: str) -> Path:
        return self.root / "tokens" / f"{region}.token"

    def state_dir(self, region: str) -> Path:
        return self.root / "regions" / region

    @property
    def tenants_root(self) -> Path:
        """Isolated instances' homes and artifacts (satellites as root): outside ROOT, which
        sits under pytest's 0700 directory that the instances' users cannot pass."""
        return Path(tempfile.gettempdir()) / f"taxiway-tenants-{self.marker[:16]}"

    def tenant_dir(self, region: str) -> Path:
        return self.tenants_root / region

    def log_path(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAXIWAY_")}
        env.update(
            {
                MARKER_ENV: self.marker,
                # Never a developer's own dev world or platform config.
                "TAXIWAY_DEV_DIR": str(self.root / "no-dev-world"),
                "TAXIWAY_CONFIG": str(self.root / "no-config.yaml"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env

    # -- starting and stopping --------------------------------------------------------

    def _spawn(self, name: str, argv: Sequence[str]) -> Running:
        self.log_path(name).parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - closed when the process is reaped
        log.write(f"--- {time.strftime('%H:%M:%S')} start {' '.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            [sys.executable, "-m", "taxiway.cli.main", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=ROOT,
            start_new_session=True,
        )
        identity = process.identify(popen.pid)
        assert identity is not None, f"{name} died at once; see {self.log_path(name)}"
        self._seen.append(identity)
        return Running(name, popen, identity, log)

    def init(self) -> None:
        (self.root / "cp").mkdir(parents=True, exist_ok=True)
        result = self.taxiway(
            "server",
            "init",
            "--database",
            self.database,
            "--topology",
            str(EXAMPLES / "topology.yaml"),
            "--inventory",
            str(EXAMPLES / "inventory.yaml"),
            "--key-file",
            str(self.root / "cp" / "sealing.key"),
            "--token-file",
            str(self.root / "cp" / "admin.token"),
            admin=False,
        )
        assert result.returncode == 0, result.stderr
        self.admin_token = (self.root / "cp" / "admin.token").read_text().strip()

    def start_control_plane(self) -> None:
        assert self.control_plane is None or self.control_plane.popen.poll() is not None
        self.control_plane = self._spawn(
            "control-plane",
            [
                "server",
                "--database",
                self.database,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--topology",
                str(EXAMPLES / "topology.yaml"),
                "--inventory",
                str(EXAMPLES / "inventory.yaml"),
                "--key-file",
                str(self.root / "cp" / "sealing.key"),
            ],
        )
        wait_for(self.control_plane_answers, within=30, what="the control plane's /healthz")

    def control_plane_answers(self) -> bool:
        return httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).status_code == 200

    def make_satellite_tokens(self) -> None:
        for region in self.regions:
            answer = self.api(
                "POST",
                "/v1/tokens",
                json={"name": f"satellite-{region}", "scope": "satellite", "region": region},
            )
            self.token_file(region).parent.mkdir(parents=True, exist_ok=True)
            self.token_file(region).write_text(answer["token"] + "\n")
            self.token_file(region).chmod(0o600)

    def start_satellite(self, region: str, control_plane: str | None = None) -> None:
        previous = self.satellites.get(region)
        assert previous is None or previous.popen.poll() is not None, f"satellite {region} runs"
        self.satellites[region] = self._spawn(
            f"satellite-{region}",
            [
                "satellite",
                "--region",
                region,
                "--control-plane",
                control_plane or self.url,
                "--token-file",
                str(self.token_file(region)),
                "--state-dir",
                str(self.state_dir(region)),
                "--topology",
                str(EXAMPLES / "topology.yaml"),
                "--listen",
                "127.0.0.1:0",
                "--tenant-dir",
                str(self.tenant_dir(region)),
                "--users-file",
                str(self.root / "users.json"),
                *SATELLITE_TIMING,
            ],
        )

    def start(self) -> None:
        """Everything: init, the control plane, tokens, satellites; wait until all reported."""
        self.init()
        self.start_control_plane()
        self.make_satellite_tokens()
        since = self.server_time()
        for region in self.regions:
            self.start_satellite(region)
        self.wait_satellites_seen(since)

    @staticmethod
    def kill(running: Running | None, signum: signal.Signals = signal.SIGKILL) -> None:
        """Signal a process of ours and reap it."""
        assert running is not None
        with contextlib.suppress(ProcessLookupError):
            running.popen.send_signal(signum)
        running.popen.wait(timeout=20)
        running.log.close()

    def stop_gracefully(self, running: Running | None, grace: float = 15.0) -> None:
        if running is None or running.popen.poll() is not None:
            if running is not None:
                running.log.close()
            return
        running.popen.send_signal(signal.SIGTERM)
        try:
            running.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(running.popen.pid, signal.SIGKILL)
            running.popen.wait(timeout=10)
        running.log.close()

    def teardown(self) -> list[str]:
        """Stop everything; answer a description of whatever had to be killed by force.

        Processes get SIGTERM all at once and a short grace, then SIGKILL: a teardown
        needs them gone, not a graceful exit (which has tests of its own).
        """
        running = [r for r in (self.control_plane, *self.satellites.values()) if r is not None]
        for item in running:
            if item.popen.poll() is None:
                item.popen.send_signal(signal.SIGTERM)
        for item in running:
            self.stop_gracefully(item, grace=6.0)
        for region in self.regions:
            dev_ingresses.stop(self.state_dir(region))
            dev_instances.stop_all(self.state_dir(region), grace_seconds=5.0)
        left = [pid for pid in self.processes() if process.alive(pid)]
        left += [pid for pid in self._seen if process.alive(pid) and pid not in left]
        for pid in left:
            process.signal_group(pid, signal.SIGKILL)
        shutil.rmtree(self.tenants_root, ignore_errors=True)
        return [f"pid {p.pid}: {_cmdline(p.pid)}" for p in left]

    # -- calling -----------------------------------------------------------------------

    def taxiway(
        self, *args: str, admin: bool = True, timeout: float = 90.0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the CLI: with ``admin``, against this world's control plane with its admin token."""
        extra = {"TAXIWAY_URL": self.url, "TAXIWAY_TOKEN": self.admin_token} if admin else {}
        extra.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "taxiway.cli.main", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=self.env(**extra),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            f"{self.url}{path}",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
            trust_env=False,
            **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def dev_up(self, env: dict[str, str], *, observability: bool = False) -> subprocess.CompletedProcess[str]:
        """``taxiway dev up`` with short timings and the WAN emulator at half the topology's
        delays (so each PoP's own checks measure which region is near); the observability
        units (a Prometheus per region, the global one, Alertmanager) only when asked for."""
        return self.taxiway(
            "dev",
            "up",
            "--timeout",
            "90",
            "--wan-scale",
            "0.5",
            "--observability" if observability else "--no-observability",
            *SATELLITE_TIMING,
            admin=False,
            timeout=120,
            env=env,
        )

    def deploy(self, path: Path | str = "examples/hello", *extra: str) -> subprocess.CompletedProcess[str]:
        return self.taxiway("deploy", str(path), "--env", "production", "--timeout", "90s", *extra)

    def status(self, service: str = "hello") -> list[dict[str, Any]]:
        result = self.taxiway("status", service, "--json")
        assert result.returncode == 0, result.stderr
        rows: list[dict[str, Any]] = json.loads(result.stdout)
        return [row for row in rows if row.get("environment") == "production"]

    def reported(self, region: str, service: str = "hello") -> dict[str, dict[str, Any]]:
        """The instances the region's last report names, by id, straight from ``GET /v1/status``."""
        for row in self.api("GET", "/v1/status", params={"service": service}):
            if row["region"] == region and row["environment"] == "production":
                return {item["id"]: item for item in row["report"].get("instances") or []}
        return {}

    def revisions(self, service: str = "hello") -> Any:
        result = self.taxiway("revisions", service, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @staticmethod
    def server_time() -> datetime:
        """Now, with a second of slack, for "reported since" checks against the control plane."""
        return datetime.now(UTC) - timedelta(seconds=1)

    def region_rows(self) -> dict[str, dict[str, Any]]:
        return {row["name"]: row for row in self.api("GET", "/v1/regions")}

    def last_seen(self, region: str) -> datetime | None:
        return readiness.parse_time(self.region_rows()[region].get("last_seen"))

    def wait_satellites_seen(self, since: datetime, regions: Iterable[str] | None = None) -> None:
        names = tuple(regions or self.regions)

        def seen() -> bool:
            rows = self.region_rows()
            times = [readiness.parse_time(rows[r].get("last_seen")) for r in names]
            return all(t is not None and t >= since for t in times)

        wait_for(seen, within=60, what=f"satellites {', '.join(names)} to report")

    def wait_ready(
        self,
        revision: int | None = None,
        counts: dict[str, int] | None = None,
        since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Every region of hello/production ready (at ``revision``, with ``counts`` ready,
        reported after ``since``)."""
        want = counts or HELLO_INSTANCES

        def ready(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
            by_region = {row["region"]: row for row in rows}
            for region, count in want.items():
                row = by_region.get(region)
                if row is None or row["phase"] != "ready" or row["ready_instances"] != count:
                    return None
                if revision is not None and row["revision"] != revision:
                    return None
                reported = readiness.parse_time(row.get("reported_at"))
                if since is not None and (reported is None or reported < since):
                    return None
            return rows

        def settled() -> list[dict[str, Any]] | None:
            # Polled in this process; once it looks ready, what the CLI prints must say so too.
            if ready(status_rows(self.url, self.admin_token, "hello")) is None:
                return None
            return ready(self.status())

        result: list[dict[str, Any]] = wait_for(settled, within=90, what="every region ready")
        return result

    # -- what runs ---------------------------------------------------------------------

    def instances(self, region: str) -> list[Instance]:
        """The region's live instance processes, from the local driver's files, checked in /proc."""
        found = []
        for item in dev_instances.find(self.state_dir(region)):
            state = json.loads((item.state_dir / "instances" / item.instance_id / "state.json").read_text())
            if item.processes and process.alive(item.processes[0]):
                found.append(
                    Instance(
                        item.instance_id,
                        region,
                        item.processes[0],
                        int(state["port"]),
                        state["datacenter"],
                        state["node"],
                    )
                )
        return sorted(found, key=lambda i: i.instance_id)

    def instance_pids(self) -> dict[str, set[int]]:
        return {region: {i.pid for i in self.instances(region)} for region in self.regions}

    def region_processes(self, region: str) -> set[int]:
        """Live processes with TAXIWAY_REGION=region among this test's (instances and theirs)."""
        wanted = f"TAXIWAY_REGION={region}".encode()
        found = set()
        for pid in self.processes():
            try:
                environ = Path(f"/proc/{pid.pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if wanted in environ:
                found.add(pid.pid)
        return found

    def processes(self) -> list[process.ProcessId]:
        """Every live process of this test: marked, under ROOT, or descended from one of those."""
        table: dict[int, tuple[int, bool]] = {}
        root = str(self.root).encode()
        marker = f"{MARKER_ENV}={self.marker}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                stat = (entry / "stat").read_text()
                parent = int(stat[stat.rindex(")") + 2 :].split()[1])
                mine = marker in (entry / "environ").read_bytes() or root in (entry / "cmdline").read_bytes()
                if not mine:
                    with contextlib.suppress(OSError):
                        cwd = os.readlink(entry / "cwd")
                        mine = cwd.startswith((str(self.root), str(self.tenants_root)))
            except (OSError, ValueError):
                continue
            table[int(entry.name)] = (parent, mine)
        ours = {pid for pid, (_, mine) in table.items() if mine}
        grew = True
        while grew:
            children = {pid for pid, (parent, _) in table.items() if parent in ours and pid not in ours}
            grew = bool(children)
            ours |= children
        return [p for p in (process.identify(pid) for pid in sorted(ours)) if p and process.alive(p)]

    def logs(self) -> str:
        parts = []
        for path in sorted((self.root / "logs").glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-40:]
            parts.append(f"==> {path.name} <==\n" + "\n".join(lines))
        return "\n".join(parts)


def status_rows(control_plane: str, token: str, service: str) -> list[dict[str, Any]]:
    """What ``taxiway status SERVICE --env production --json`` prints, without starting a
    process per poll (the same client code, in this process): an interpreter start costs
    seconds of CPU on a loaded machine, a poll here a few requests."""
    with ControlPlane(control_plane, token) as client:
        rows = client.get("/v1/status", service=service)
        known = region_list.fetch(client)
        targets = desired.targets(client, service, "production")
    now = datetime.now(UTC)
    entries = client_status.collect(rows, known, targets, now, environment="production")
    return [entry.to_json(now) for entry in entries]


def dev_status_rows(dev_dir: Path, service: str) -> list[dict[str, Any]]:
    """:func:`status_rows` of the dev world in ``dev_dir``, found through its dev.json."""
    dev = json.loads((dev_dir / "dev.json").read_text())
    return status_rows(dev["control_plane"], dev["token"], service)


def answer(endpoint: str) -> httpx.Response:
    return httpx.get(endpoint.rstrip("/") + "/", timeout=5, trust_env=False)


def answers_from(endpoint: str, region: str) -> bool:
    try:
        response = answer(endpoint)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.headers.get("X-Taxiway-Region") == region


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
