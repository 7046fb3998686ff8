"""The data plane's cost and its failover, measured: origin, region ingress, edge PoP.

Issue 4's ``benchmarks/edge.py``. One run, side by side on the same machine, loopback only:

(a) straight to an instance (the origin);
(b) through the region's ingress HAProxy → instance;
(c) through the PoP's HAProxy → ingress HAProxy → instance;

each a closed-loop load of a fixed number of keep-alive connections for a fixed time,
reported as requests/s, p50 and p99 latency, and ratios to (a). The cases take turns for
``--rounds`` rounds; each row is the case's median round (by requests/s), with the range
over all rounds beside it, so a noisy neighbour shows up as a wide range.

Then the failover figures: a sequential GET load through the PoP with two region pools,
the serving region killed (``kill -9`` of its ingress HAProxy and its instance), the
requests that failed (and why), the time until the next pool served, and the time until
the revived region served again (``consecutive_up`` checks). Then the same with only the
serving region's *instance* killed, its ingress left up. Each kind runs
``--failover-rounds`` times, one row each. The time to the next pool is bimodal: a GET cut
mid-request is replayed on the next pool at once, while one that finds the ingress
refusing waits HAProxy 2.6's retry turn-around, min(``timeout connect``, 1 s) (see
:func:`taxiway.plan.haproxy.config._edge_backend`). With the instance alone dead, the live
ingress answers 503 (no server left), which the PoP does not retry, until the PoP's
monitor sees the region down (``consecutive_down`` checks): those 503s are the "failed at
kill" of that row.

    .venv/bin/python benchmarks/edge.py                  # 3 rounds × 5 s per case, 32 connections
    .venv/bin/python benchmarks/edge.py --quick          # 1 round × 1 s per case, short failover
    .venv/bin/python benchmarks/edge.py --duration 10 --connections 64 --client python

The origin is a *fast* one, so the proxies are what is measured: a third HAProxy that
answers every request itself (``http-request return status 200 ... string ok``), C and
event-driven like the proxies in front of it, where ``examples/hello``'s Python server
would be the bottleneck of every case. No WAN emulator is on the path (no delay).

The load generator is ``wrk`` (Debian package ``wrk``) when it is installed. Without it
the script prints ``apt-get install -y wrk`` and falls back to a built-in asyncio client
with the same fixed keep-alive connections; that client is slower than the proxies, so
its absolute figures are the client's and only the ratios mean something (the script
says which client it used). Every process — proxies, origins, client — shares the
machine's CPUs; HAProxy runs its default one thread per CPU.

Proxies are the project's own: the ingress and the edge configs come from
:func:`taxiway.plan.haproxy.config.render` and run under :class:`taxiway.haproxy.process.Haproxy`,
with the edge monitor of ``tests/component/test_haproxy_edge.py``. This is a script,
not a test: it prints figures and exits 0 whatever they are. Every process it starts is
stopped on the way out, also on Ctrl-C, SIGTERM or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

if __package__ in (None, ""):  # run as a script: make `taxiway` importable from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from taxiway.haproxy import layout, process
from taxiway.plan.haproxy import config

LOCAL = "127.0.0.1"
DOMAIN = "example.test"
SERVICE = "hello"
HOST = f"{SERVICE}.{DOMAIN}"
REGIONS = ("us-east1", "europe-west1")
"""Failover order: the first serves, the second is the next pool."""
MONITOR = config.Monitor(
    protocol="http", path="/health", interval=0.25, timeout=0.5, consecutive_up=2, consecutive_down=2
)
"""The PoP's checks of each region, as in ``tests/component/test_haproxy_edge.py``."""
INSTANCE_CHECK = config.InstanceCheck(path="/ready", interval=0.25, timeout=0.5, rise=1, fall=2)
"""The ingress's checks of its instance: fast, so a revived instance rejoins within a second."""
REGION_HEADER = config.REGION_HEADER.lower()
PATIENCE = 30.0
"""Seconds a failover step may take before it is reported as not done (never raised)."""
WRK_MISSING = "wrk is not installed: run `apt-get install -y wrk` (Debian package); using the Python client"


# ---------------------------------------------------------------------------- the world


def _origin_config(state: layout.Layout, port: int, name: str) -> str:
    """An HAProxy that answers every request itself: the fastest origin at hand."""
    return "\n".join(
        [
            "global",
            "    master-worker",
            f"    stats socket {state.stats_socket} mode 600 level admin",
            "",
            "defaults",
            "    mode http",
            "    timeout connect 2s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    timeout http-keep-alive 5s",
            "",
            "frontend fe_origin",
            f"    bind {LOCAL}:{port}",
            f"    http-request return status 200 content-type text/plain string ok hdr X-Origin {name}",
            "",
        ]
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Region:
    """One region: an instance (a fast origin) behind the region's ingress HAProxy."""

    name: str
    origin: process.Haproxy
    ingress: process.Haproxy
    origin_port: int = field(default_factory=free_port)
    ingress_port: int = field(default_factory=free_port)

    def start_origin(self) -> None:
        self.origin.apply(_origin_config(self.origin.layout, self.origin_port, f"{SERVICE}-{self.name}-0"))

    def start_ingress(self) -> None:
        instance = config.Instance(f"{SERVICE}-{self.name}-0", self.origin_port)
        self.ingress.apply(
            config.render(
                config.Ingress(
                    region=self.name,
                    domain=DOMAIN,
                    bind=config.Endpoint(LOCAL, self.ingress_port),
                    control=self.ingress.layout.control(),
                    services=(config.IngressService(SERVICE, (instance,), INSTANCE_CHECK),),
                )
            )
        )


@dataclass
class World:
    """Every HAProxy of the run under one short directory (unix socket paths ≤ 107 bytes)."""

    root: Path
    proxies: list[process.Haproxy] = field(default_factory=list)

    def haproxy(self, name: str) -> process.Haproxy:
        proxy = process.Haproxy(layout.Layout(self.root / name))
        self.proxies.append(proxy)
        return proxy

    def region(self, name: str) -> Region:
        region = Region(name, self.haproxy(f"origin-{name}"), self.haproxy(f"ingress-{name}"))
        region.start_origin()
        region.start_ingress()
        return region

    def edge(self, regions: list[Region]) -> tuple[process.Haproxy, int]:
        proxy = self.haproxy("edge")
        port = free_port()
        pools = tuple(config.Pool(r.name, LOCAL, r.ingress_port) for r in regions)
        service = config.EdgeService(SERVICE, pools, MONITOR, fallback=pools[0])
        proxy.apply(
            config.render(
                config.Edge(
                    pop="fra",
                    domain=DOMAIN,
                    bind=config.Endpoint(LOCAL, port),
                    control=proxy.layout.control(),
                    services=(service,),
                )
            )
        )
        return proxy, port

    def leftovers(self) -> list[int]:
        """Processes still running with this world's directory on their command line."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(self.root) in cmdline and process.alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def close(self) -> list[int]:
        """Stop every HAProxy; kill any straggler; answer the pids that needed killing."""
        for proxy in self.proxies:
            with contextlib.suppress(Exception):
                proxy.stop(graceful=False)
        stray = self.leftovers()
        for pid in stray:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return stray


@contextlib.contextmanager
def world() -> Iterator[World]:
    root = Path(tempfile.mkdtemp(prefix="tw-edge-", dir="/tmp"))
    created = World(root)
    try:
        yield created
    finally:
        # A second Ctrl-C (or SIGTERM) during the cleanup waits until it is done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            stray = created.close()
            shutil.rmtree(root, ignore_errors=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if stray:
            print(f"had to kill processes left running: {stray}", file=sys.stderr)


def kill(*proxies: process.Haproxy) -> float:
    """``kill -9`` every master and worker of ``proxies`` at once, as when a machine loses
    them; answer when the signals went out (the moment the region died), once they are gone."""
    pids = []
    for proxy in proxies:
        procs = proxy.processes()
        pids += [procs.master, *procs.workers, *procs.old_workers]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    for proxy in proxies:
        wait_until(functools.partial(gone, proxy), 10, "a killed HAProxy to be gone")
        proxy.stop(graceful=False)  # reaps the child and forgets the pid file
    return killed_at


def poll(condition: Callable[[], bool], within: float) -> bool:
    """Whether ``condition`` came true within ``within`` seconds (checked every 20 ms)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    """Setup that must happen: a world that never comes up is an error, not a figure."""
    if not poll(condition, within):
        raise RuntimeError(f"timed out after {within:g}s waiting for {what}")


def gone(proxy: process.Haproxy) -> bool:
    return not proxy.running()


def server_up(proxy: process.Haproxy, backend: str, server: str) -> bool:
    rows = proxy.api.servers(backend)
    return server in rows and rows[server].status == "UP"


# ---------------------------------------------------------------------------- load


@dataclass(frozen=True)
class Figures:
    case: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
_WRK_PERCENTILE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def run_wrk(case: str, port: int, seconds: float, connections: int, threads: int) -> Figures:
    argv = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",  # wrk counts whole seconds
        "--latency",
        f"--header=Host: {HOST}",
        f"http://{LOCAL}:{port}/",
    ]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + 60, check=False, stdin=subprocess.DEVNULL
    )
    out = result.stdout
    total = _WRK_TOTAL.search(out)
    if result.returncode != 0 or total is None:
        raise RuntimeError(f"wrk failed (exit {result.returncode}): {out}{result.stderr}")
    percentiles = {int(p): float(v) * _UNIT_SECONDS[u] * 1000 for p, v, u in _WRK_PERCENTILE.findall(out)}
    socket_errors = _WRK_ERRORS.search(out)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non_2xx = _WRK_NON_2XX.search(out)
    return Figures(
        case,
        int(total[1]),
        float(total[2]) * _UNIT_SECONDS[total[3]],
        percentiles[50],
        percentiles[99],
        errors + (int(non_2xx[1]) if non_2xx else 0),
    )


async def _python_connection(port: int, until: float, latencies: list[float], errors: list[int]) -> None:
    request = f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection(LOCAL, port)
    try:
        while (now := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - now)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(1)
    except (OSError, asyncio.IncompleteReadError):
        errors.append(1)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def run_python(case: str, port: int, seconds: float, connections: int) -> Figures:
    """The fallback client: ``connections`` keep-alive connections, one request at a time each."""
    latencies: list[float] = []
    errors: list[int] = []

    async def load() -> float:
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(
            *(_python_connection(port, until, latencies, errors) for _ in range(connections))
        )
        return time.perf_counter() - start

    elapsed = asyncio.run(load())
    ordered = sorted(latencies) or [0.0]
    p50, p99 = (ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 for q in (0.50, 0.99))
    return Figures(case, len(latencies), elapsed, p50, p99, len(errors))


# ---------------------------------------------------------------------------- failover


@dataclass(frozen=True)
class Reply:
    region: str | None
    """The ingress that answered (its ``X-Taxiway-Region``); None on a failed request."""
    at: float
    failure: str | None = None
    """Why it failed: the status and body, or the client's error."""


def get(port: int) -> Reply:
    """One GET on a fresh connection, as the component tests send them."""
    connection = http.client.HTTPConnection(LOCAL, port, timeout=10)
    try:
        connection.request("GET", "/", headers={"Host": HOST})
        response = connection.getresponse()
        body = response.read()
        if response.status == 200:
            return Reply(response.getheader(REGION_HEADER), time.monotonic())
        pool = response.getheader(config.POOL_HEADER) or "-"
        text = body.decode(errors="replace").strip().splitlines()[:1]
        return Reply(None, time.monotonic(), f"{response.status} from pool {pool} {text}")
    except (OSError, http.client.HTTPException) as exc:
        return Reply(None, time.monotonic(), type(exc).__name__)
    finally:
        connection.close()


class SequentialLoad:
    """A thread sending GETs one after the other through the PoP until stopped."""

    def __init__(self, port: int, limit: float) -> None:
        self.port = port
        self.limit = limit
        self.replies: list[Reply] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sequential-load", daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.replies.append(get(self.port))

    def __enter__(self) -> SequentialLoad:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def first(self, region: str, since: float) -> float | None:
        """When ``region`` first answered after ``since``."""
        return next((r.at for r in list(self.replies) if r.at > since and r.region == region), None)

    def wait_first(self, region: str, since: float, within: float) -> float | None:
        """When ``region`` first answered after ``since``; None if not within ``within`` s."""
        poll(lambda: self.first(region, since) is not None, within)
        return self.first(region, since)


@dataclass(frozen=True)
class Failover:
    what: str
    requests: int
    failed_at_kill: int
    failed_at_revival: int
    next_pool_ms: float | None
    back_ms: float | None
    """None: not within :data:`PATIENCE` (reported, never raised: a slow machine is data)."""
    failures: collections.Counter[str]


def failover(
    edge: process.Haproxy, port: int, serving: Region, whole_region: bool, settle: float
) -> Failover:
    """Kill ``serving`` (its ingress and instance, or the instance only) under a sequential
    load through the PoP; revive it; time both hand-overs."""
    nxt = REGIONS[1]
    with SequentialLoad(port, limit=60) as load:
        poll(lambda: len(load.replies) >= 20, PATIENCE)
        time.sleep(settle)
        killed_at = kill(serving.origin, serving.ingress) if whole_region else kill(serving.origin)
        served_next = load.wait_first(nxt, killed_at, within=PATIENCE)
        time.sleep(settle)  # go on failing over: any later error shows up too
        # The edge must see the region down before it is revived, or the revival is not timed.
        poll(lambda: not server_up(edge, SERVICE, serving.name), PATIENCE)
        serving.start_origin()
        if whole_region:
            serving.start_ingress()
        revived_at = time.monotonic()
        back_at = load.wait_first(serving.name, revived_at, within=PATIENCE)
        time.sleep(settle)
    replies = load.replies
    return Failover(
        what="region (ingress + instance)" if whole_region else "instance only (ingress stays)",
        requests=len(replies),
        failed_at_kill=sum(1 for r in replies if r.region is None and r.at <= revived_at),
        failed_at_revival=sum(1 for r in replies if r.region is None and r.at > revived_at),
        next_pool_ms=None if served_next is None else (served_next - killed_at) * 1000,
        back_ms=None if back_at is None else (back_at - revived_at) * 1000,
        failures=collections.Counter(r.failure for r in replies if r.failure is not None),
    )


# ---------------------------------------------------------------------------- report


def median_round(rounds: list[Figures]) -> Figures:
    """The round with the median requests/s (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda f: f.rate)
    return ordered[(len(ordered) - 1) // 2]


def report_load(runs: list[list[Figures]]) -> None:
    """One row per case: its median round, the range over rounds, ratios to the first case."""
    figures = [median_round(rounds) for rounds in runs]
    base = figures[0]
    print(
        f"{'case':<34} {'requests/s':>10} {'p50':>9} {'p99':>9} {'errors':>6} "
        f"{'rps / a':>7} {'p50 / a':>7} {'p99 / a':>7}  {'requests/s over rounds':>22}"
    )
    for f, rounds in zip(figures, runs, strict=True):
        spread = f"{min(r.rate for r in rounds):,.0f}–{max(r.rate for r in rounds):,.0f}"
        print(
            f"{f.case:<34} {f.rate:>10,.0f} {f.p50_ms:>7.3f}ms {f.p99_ms:>7.3f}ms "
            f"{sum(r.errors for r in rounds):>6} {_ratio(f.rate, base.rate):>7} "
            f"{_ratio(f.p50_ms, base.p50_ms):>7} {_ratio(f.p99_ms, base.p99_ms):>7}  {spread:>22}"
        )


def _ms(value: float | None, digits: int) -> str:
    return f"not in {PATIENCE:g} s" if value is None else f"{value:.{digits}f} ms"


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base else "-"


def report_failover(rounds: list[Failover]) -> None:
    print(
        f"{'killed':<32} {'GETs':>6} {'failed at kill':>15} {'next pool served':>17} "
        f"{'failed at revival':>18} {'revived served':>15}"
    )
    for r in rounds:
        print(
            f"{r.what:<32} {r.requests:>6} {r.failed_at_kill:>15} {_ms(r.next_pool_ms, 1):>17} "
            f"{r.failed_at_revival:>18} {_ms(r.back_ms, 0):>15}"
        )
    kinds: collections.Counter[str] = collections.Counter()
    for r in rounds:
        kinds.update({f"{r.what}: {failure}": n for failure, n in r.failures.items()})
    for kind, count in sorted(kinds.items()):
        print(f"  {count:>6} × {kind}")


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` stops what it started."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
        if client == "python":
            print(WRK_MISSING)
    elif client == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `apt-get install -y wrk` (Debian package)")
    if shutil.which("haproxy") is None:
        raise SystemExit("HAProxy is not installed: run `apt-get install -y haproxy` (Debian package, 2.6)")

    version = subprocess.run(["haproxy", "-v"], capture_output=True, text=True, check=False).stdout
    with world() as created:
        haproxy = version.splitlines()[0] if version else "HAProxy"
        print(
            f"state under {created.root}; {_cpus()} CPUs; {haproxy}; "
            f"load average {os.getloadavg()[0]:.2f}; client {client}, {args.connections} keep-alive "
            f"connections, {args.rounds} × {args.duration:g} s per case"
            + (f" (+{args.warmup:g} s warm-up)" if args.warmup else "")
        )
        regions = [created.region(name) for name in REGIONS]
        edge, edge_port = created.edge(regions)
        for region in regions:
            instance = f"{SERVICE}-{region.name}-0"
            wait_until(functools.partial(server_up, region.ingress, SERVICE, instance), 10, f"{instance} UP")
            wait_until(
                functools.partial(server_up, edge, SERVICE, region.name), 10, f"{region.name} UP at PoP"
            )
        serving = regions[0]
        cases = [
            ("(a) straight to the instance", serving.origin_port),
            ("(b) region ingress → instance", serving.ingress_port),
            ("(c) PoP → ingress → instance", edge_port),
        ]

        def measure(case: str, port: int, seconds: float) -> Figures:
            if client == "wrk":
                return run_wrk(case, port, seconds, args.connections, args.threads)
            return run_python(case, port, seconds, args.connections)

        if args.warmup:
            for case, port in cases:
                measure(case, port, args.warmup)
        # Cases take turns, round after round, so a neighbour's burst on a shared machine
        # lands on every case alike instead of on whichever ran at that moment.
        runs: dict[str, list[Figures]] = {case: [] for case, _ in cases}
        for _ in range(args.rounds):
            for case, port in cases:
                runs[case].append(measure(case, port, args.duration))
        print()
        report_load([runs[case] for case, _ in cases])
        if client == "python":
            print("(the Python client is slower than the proxies: compare the ratios, not requests/s)")

        print()
        print(
            f"failover through the PoP: sequential GETs, fresh connection each; pools {' → '.join(REGIONS)}; "
            f"monitor every {MONITOR.interval:g} s, consecutive_up {MONITOR.consecutive_up}, "
            f"consecutive_down {MONITOR.consecutive_down}"
        )
        rounds = [
            failover(edge, edge_port, serving, whole_region=whole, settle=args.settle)
            for whole in (True, False)
            for _ in range(args.failover_rounds)
        ]
        report_failover(rounds)
        print(
            "  next pool served: from the kill to the first answer from the next region; "
            "revived served: from the revived region accepting again to its first answer"
        )
        print(
            "  failed: GETs that got no 200; instance only: the ingress answers 503 until the PoP's "
            "monitor marks the region down"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, help="Seconds of load per case (default 5, quick 1).")
    parser.add_argument("--warmup", type=float, help="Seconds of unmeasured load first (default 1, quick 0).")
    parser.add_argument(
        "--rounds", type=int, help="Rounds of the three cases, taking turns (default 3, quick 1)."
    )
    parser.add_argument("--connections", type=int, default=32, help="Keep-alive connections (default 32).")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1).")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--settle", type=float, help="Seconds of load around each failover step (default 1, quick 0.3)."
    )
    parser.add_argument(
        "--failover-rounds", type=int, help="Kills of each kind, one after the other (default 3, quick 1)."
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 1 s per case, 1 failover of each kind."
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 1.0 if args.quick else 5.0
    if args.warmup is None:
        args.warmup = 0.0 if args.quick else 1.0
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.failover_rounds is None:
        args.failover_rounds = 1 if args.quick else 3
    if args.settle is None:
        args.settle = 0.3 if args.quick else 1.0
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
