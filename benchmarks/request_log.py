"""What the request log path costs, measured at the region ingress's top request rate.

Issue 11's histogram path: the ingress HAProxy sends one line per request to a unix
datagram socket, and the request log sink (:mod:`taxiway.observability.request_log_sink`,
the real ``taxiway ingress-log-sink`` process, started as the satellite starts it) counts
them. One run, side by side on the same machine, loopback only, the cases taking turns
for ``--rounds`` rounds:

(a) the ingress with no request log;
(b) the same ingress config with the request log, the sink reading;
(c) as (b) with the sink stopped (``SIGSTOP``): a sink that reads nothing at all, past
    any rate it could keep up with.

Each is a closed-loop ``wrk`` load (fixed keep-alive connections, fixed time) through the
ingress to a fast origin (an HAProxy that answers itself, as in ``benchmarks/edge.py``).
Printed per case: requests/s and its ratio to (a), p99; and for (b) and (c) the requests
HAProxy counted (the frontend's ``req_tot``), the lines the sink received, the lines HAProxy dropped
(``DroppedLogs``), received + dropped against requests (every line accounted for), and
the sink's CPU from ``/proc/<pid>/stat`` (user + system, all threads): seconds per
million lines, and percent of one core at the rate it ran.

    .venv/bin/python benchmarks/request_log.py             # 3 rounds × 5 s per case
    .venv/bin/python benchmarks/request_log.py --quick     # 1 round × 2 s per case

A script, not a test: it prints figures and exits 0 whatever they are. Every process it
starts is stopped on the way out.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `taxiway` and `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client.parser import text_string_to_metric_families

from benchmarks import edge as edge_benchmark
from taxiway.haproxy import process
from taxiway.observability import sink_process
from taxiway.plan.haproxy import config
from taxiway.plan.observability import names

LOCAL = edge_benchmark.LOCAL
SERVICE = edge_benchmark.SERVICE
INSTANCE = f"{SERVICE}-production-r1-0"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Round:
    case: str
    figures: edge_benchmark.Figures
    requests: int = 0
    """Requests the ingress frontend counted (``req_tot``), in flight at the end included."""
    lines: int = 0
    dropped: int = 0
    cpu_seconds: float = 0.0


def _ingress(proxy: process.Haproxy, port: int, origin_port: int, request_log: Path | None) -> None:
    instance = config.Instance(INSTANCE, origin_port)
    proxy.apply(
        config.render(
            config.Ingress(
                region="bench",
                domain=edge_benchmark.DOMAIN,
                bind=config.Endpoint(LOCAL, port),
                control=proxy.layout.control(),
                services=(config.IngressService(SERVICE, (instance,), edge_benchmark.INSTANCE_CHECK),),
                request_log=request_log,
            )
        )
    )


def _cpu(pid: int) -> float:
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _sink_counts(url: str) -> tuple[int, int]:
    """(lines received, lines HAProxy dropped) as the sink exposes them."""
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    found = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    return int(found.get(names.INGRESS_LOG_LINES, 0)), int(found.get(names.INGRESS_LOG_DROPPED, 0))


def _requests(proxy: process.Haproxy) -> int:
    """HTTP requests the ingress frontend received (``req_tot``; ``CumReq`` counts the
    stats socket's own sessions too)."""
    for row in proxy.api.show_stat():
        if row.proxy == config.FRONTEND and row.name == "FRONTEND":
            return row.number("req_tot") or 0
    raise RuntimeError("no frontend row in show stat")


def run(args: argparse.Namespace) -> int:
    for binary, package in (("wrk", "wrk"), ("haproxy", "haproxy")):
        if shutil.which(binary) is None:
            raise SystemExit(
                f"{binary} is not installed: run `apt-get install -y {package}` (Debian package)"
            )
    version = subprocess.run(["haproxy", "-v"], capture_output=True, text=True, check=False).stdout
    with edge_benchmark.world() as created:
        origin = created.haproxy("origin")
        origin_port = edge_benchmark.free_port()
        origin.apply(edge_benchmark._origin_config(origin.layout, origin_port, INSTANCE))
        plain, logged = created.haproxy("off"), created.haproxy("on")
        plain_port, logged_port = edge_benchmark.free_port(), edge_benchmark.free_port()
        sink_dir = created.root / "sink"
        flags = sink_process.SinkFlags(
            socket=sink_dir / "log.sock",
            metrics_host=LOCAL,
            metrics_port=edge_benchmark.free_port(),
            stats_socket=logged.layout.stats_socket,
        )
        sink = sink_process.SinkProcess(sink_dir)
        try:
            sink.ensure(flags)
            pid = sink.pid()
            assert pid is not None
            _ingress(plain, plain_port, origin_port, None)
            _ingress(logged, logged_port, origin_port, flags.socket)
            for proxy in (plain, logged):
                edge_benchmark.wait_until(
                    functools.partial(edge_benchmark.server_up, proxy, SERVICE, INSTANCE), 10, "instance UP"
                )
            print(
                f"state under {created.root}; {edge_benchmark._cpus()} CPUs; {version.splitlines()[0]}; "
                f"load average {os.getloadavg()[0]:.2f}; wrk, {args.connections} keep-alive connections, "
                f"{args.threads} thread(s), {args.rounds} × {args.duration:g} s per case; "
                f"net.unix.max_dgram_qlen {Path('/proc/sys/net/unix/max_dgram_qlen').read_text().strip()}"
            )

            def measure(case: str) -> Round:
                port = plain_port if case.startswith("(a)") else logged_port
                stalled = case.startswith("(c)")
                if port == plain_port:
                    return Round(case, load(port))
                lines0, dropped0 = _sink_counts(flags.metrics_url)
                requests0, cpu0 = _requests(logged), _cpu(pid)
                if stalled:
                    os.kill(pid, signal.SIGSTOP)
                try:
                    figures = load(port)
                finally:
                    if stalled:
                        os.kill(pid, signal.SIGCONT)
                # CPU to the end of the load only: the scrapes below cost the sink CPU too.
                cpu = _cpu(pid) - cpu0
                requests = _requests(logged) - requests0

                def settled() -> bool:
                    lines, dropped = _sink_counts(flags.metrics_url)
                    return (lines - lines0) + (dropped - dropped0) >= requests

                # The sink drains what its socket queued; then every line is counted once.
                edge_benchmark.poll(settled, 3)
                lines, dropped = _sink_counts(flags.metrics_url)
                return Round(case, figures, requests, lines - lines0, dropped - dropped0, cpu)

            def load(port: int) -> edge_benchmark.Figures:
                return edge_benchmark.run_wrk("", port, args.duration, args.connections, args.threads)

            cases = [
                "(a) ingress, no request log",
                "(b) request log, sink reading",
                "(c) request log, sink stopped",
            ]
            if args.warmup:
                for port in (plain_port, logged_port):
                    edge_benchmark.run_wrk("", port, args.warmup, args.connections, args.threads)
            runs: dict[str, list[Round]] = {case: [] for case in cases}
            for _ in range(args.rounds):
                for case in cases:
                    runs[case].append(measure(case))
            report([runs[case] for case in cases])
        finally:
            sink.stop()
    return 0


def report(runs: list[list[Round]]) -> None:
    medians = [sorted(rounds, key=lambda r: r.figures.rate)[(len(rounds) - 1) // 2] for rounds in runs]
    base = medians[0].figures.rate
    print()
    print(
        f"{'case':<32} {'req/s':>8} {'/ (a)':>6} {'p99':>9} {'requests':>9} {'lines':>9} {'dropped':>9} "
        f"{'drop %':>7} {'lost':>5} {'sink CPU s/M lines':>18} {'sink % core':>11}   req/s over rounds"
    )
    for median, rounds in zip(medians, runs, strict=True):
        f = median.figures
        spread = f"{min(r.figures.rate for r in rounds):,.0f}–{max(r.figures.rate for r in rounds):,.0f}"
        row = f"{median.case:<32} {f.rate:>8,.0f} {f.rate / base:>6.2f} {f.p99_ms:>7.3f}ms"
        if median.requests:
            lost = median.requests - median.lines - median.dropped
            per_million = median.cpu_seconds / median.lines * 1e6 if median.lines else float("nan")
            share = median.cpu_seconds / f.seconds * 100
            row += (
                f" {median.requests:>9,} {median.lines:>9,} {median.dropped:>9,} "
                f"{median.dropped / median.requests * 100:>6.2f}% {lost:>5} "
                f"{per_million:>18.2f} {share:>10.1f}%"
            )
        else:
            row += f" {'':>9} {'':>9} {'':>9} {'':>7} {'':>5} {'':>18} {'':>11}"
        print(f"{row}   {spread}")
    print(
        "  requests: the frontend's req_tot over the round; lines: received by the sink; dropped: HAProxy's "
        "DroppedLogs; lost: requests − lines − dropped (0: every line is accounted for)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, help="Seconds of load per case (default 5, quick 2).")
    parser.add_argument("--warmup", type=float, default=1.0, help="Seconds of unmeasured load first.")
    parser.add_argument("--rounds", type=int, help="Rounds of the three cases (default 3, quick 1).")
    parser.add_argument("--connections", type=int, default=32, help="Keep-alive connections (default 32).")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1).")
    parser.add_argument("--quick", action="store_true", help="1 round of 2 s per case.")
    args = parser.parse_args(argv)
    args.duration = args.duration or (2.0 if args.quick else 5.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    signal.signal(signal.SIGTERM, edge_benchmark._terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
