"""The request log sink: the region ingress's request lines in, Prometheus series out.

HAProxy 2.6's exporter has no latency histograms, and Python must never be in the request
path; so the ingress HAProxy sends one line per request (``log <socket> format raw``,
:mod:`taxiway.plan.observability.request_log`) to a unix **datagram** socket this process
reads. HAProxy writes datagrams without waiting: when the socket's receive buffer is full
(this process is slow or gone) it drops the line and counts it in ``DroppedLogs``, so a
slow sink never slows a request. The sink asks for a large receive buffer to absorb
bursts, and exposes the drops it could not prevent as
:data:`~taxiway.plan.observability.names.INGRESS_LOG_DROPPED`, read from HAProxy's
``show info`` through its stats socket at each scrape: a histogram missing lines says so.

Series (names from :mod:`taxiway.plan.observability.names`; the target adds ``region``):
requests by service, environment, revision and code class; a duration histogram per
service, environment and revision, whose bounds are ``names.buckets_for`` of the service's
latency SLO thresholds, read from a JSON file the satellite writes
(:mod:`taxiway.plan.observability.latency_thresholds`) and re-read when it changes; and
the lines received and unparsed. ``/metrics`` listens on loopback only.

Run as ``taxiway ingress-log-sink`` (:mod:`taxiway.cli.ingress_log_sink_command`), started
and adopted by the satellite (:mod:`taxiway.observability.sink_process`).
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import json
import logging
import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import core, exposition, registry

from taxiway.errors import ConfigurationError
from taxiway.observability import datagram_queue
from taxiway.plan.haproxy import answers
from taxiway.plan.observability import latency_thresholds, names, request_log, request_tally
from taxiway.plan.region import reconcile

log = logging.getLogger(__name__)

RECEIVE_BUFFER = 16 * 1024 * 1024
"""Bytes asked for the socket's receive buffer: at ~40 bytes a line (plus the kernel's
per-datagram overhead) it holds tens of thousands of lines, a burst of a second or more
at the ingress's top rate, while this process is descheduled. Without privilege the
kernel caps it at ``net.core.rmem_max``; the size got is logged."""
MAX_LINE = 4096
THRESHOLDS_CHECK_SECONDS = 1
"""How often the thresholds file is looked at (a stat; re-read only when it changed)."""
STATS_TIMEOUT = 1.0


@dataclass(frozen=True)
class SinkSettings:
    socket: Path
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    stats_socket: Path | None = None
    """HAProxy's admin socket, for ``DroppedLogs``; ``None``: not exposed."""
    thresholds_file: Path | None = None


def dropped_logs(stats_socket: Path) -> int | None:
    """HAProxy's ``DroppedLogs`` (``show info``), or ``None`` when it cannot be read."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(STATS_TIMEOUT)
            conn.connect(str(stats_socket))
            conn.sendall(b"show info\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError:
        return None
    value = answers.parse_info(b"".join(chunks).decode(errors="replace")).get("DroppedLogs", "")
    return int(value) if value.isdigit() else None


class _Collector(registry.Collector):
    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    def collect(self) -> Iterator[core.Metric]:
        tally, lines, unparsed = self._sink.snapshot()
        requests = core.CounterMetricFamily(
            names.INGRESS_REQUESTS,
            "Requests the ingress answered, by the class of their status code.",
            labels=[names.SERVICE, names.ENVIRONMENT, names.REVISION, names.CODE_CLASS],
        )
        for key, count in sorted(tally.requests.items()):
            requests.add_metric(list(key), count)
        yield requests
        duration = core.HistogramMetricFamily(
            names.INGRESS_DURATION,
            "HAProxy's total active time of each request (%Ta), in seconds.",
            labels=[names.SERVICE, names.ENVIRONMENT, names.REVISION],
        )
        for series, histogram in sorted(tally.histograms.items()):
            buckets = [(names.bucket_label(bound), count) for bound, count in histogram.cumulative()]
            duration.add_metric(list(series), buckets, histogram.sum)
        yield duration
        yield core.CounterMetricFamily(
            names.INGRESS_LOG_LINES, "Request log lines the sink received.", value=lines
        )
        yield core.CounterMetricFamily(
            names.INGRESS_LOG_UNPARSED, "Request log lines the sink could not read.", value=unparsed
        )
        stats = self._sink.settings.stats_socket
        dropped = dropped_logs(stats) if stats is not None else None
        if dropped is not None:
            yield core.CounterMetricFamily(
                names.INGRESS_LOG_DROPPED,
                "Log lines HAProxy could not send (DroppedLogs): requests the counts above miss.",
                value=dropped,
            )


class Sink:
    """The socket, the counts and the ``/metrics`` server of one ingress."""

    def __init__(self, settings: SinkSettings) -> None:
        try:
            loopback = ipaddress.ip_address(settings.metrics_host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ConfigurationError(f"--metrics {settings.metrics_host}: the sink listens on loopback only")
        self.settings = settings
        self._lock = threading.Lock()
        self._tally = request_tally.Tally()
        self._lines = 0
        self._unparsed = 0
        self._stopping = threading.Event()
        self._thresholds_seen: tuple[int, int, int] | None = None
        self._socket = self._bind(settings.socket)
        self._registry = registry.CollectorRegistry(auto_describe=False)
        self._registry.register(_Collector(self))
        self._server = http.server.ThreadingHTTPServer(
            (settings.metrics_host, settings.metrics_port), self._handler()
        )
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []
        self._read_thresholds()

    @property
    def metrics_port(self) -> int:
        return int(self._server.server_address[1])

    @staticmethod
    def _bind(path: Path) -> socket.socket:
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                raise ConfigurationError(f"--socket {path}: exists and is not a socket")
            path.unlink()  # left by a sink that died; datagram sockets cannot be re-bound
        datagram_queue.ensure()  # before the socket: the kernel reads it when one is made
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
            if option is None:
                continue
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                break
        try:
            sock.bind(str(path))
            os.chmod(path, 0o600)
        except OSError as exc:
            sock.close()
            raise ConfigurationError(f"--socket {path}: cannot bind: {exc.strerror}") from exc
        # A blocking socket with a receive timeout: one system call per line (Python's own
        # timeouts poll before every recv), and still a wake-up to look at the file.
        seconds = int(THRESHOLDS_CHECK_SECONDS)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, 0))
        log.info("receive buffer of %s: %d bytes", path, sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        return sock

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exposition.generate_latest(sink._registry)
                self.send_response(200)
                self.send_header("Content-Type", exposition.CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # one line per scrape is noise

        return Handler

    # -- counts

    def snapshot(self) -> tuple[request_tally.Tally, int, int]:
        with self._lock:
            return self._tally.copy(), self._lines, self._unparsed

    def take(self, line: bytes) -> None:
        outcome = request_log.parse(line)
        with self._lock:
            self._lines += 1
            if isinstance(outcome, request_log.Record):
                self._tally.add(outcome)
            elif outcome is request_log.UNPARSED:
                self._unparsed += 1

    def _read_thresholds(self) -> None:
        path = self.settings.thresholds_file
        if path is None:
            return
        try:
            info = os.stat(path)
        except OSError:
            return  # not written yet: the default bounds
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if seen == self._thresholds_seen:
            return
        self._thresholds_seen = seen
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
            thresholds = latency_thresholds.parse(found)
            revisions = latency_thresholds.parse_revisions(found)
        except (OSError, ValueError) as exc:
            log.warning("%s: %s; keeping the bucket bounds as they are", path, exc)
            return
        with self._lock:
            self._tally.set_thresholds(thresholds)
            for service, numbers in revisions.items():
                for number in numbers:
                    self._tally.expect(service, reconcile.ROUTED_ENVIRONMENT, number)
        log.info("latency thresholds of %d services from %s", len(thresholds), path)

    # -- running

    def _receive(self) -> None:
        recv, take = self._socket.recv, self.take
        next_check = time.monotonic() + THRESHOLDS_CHECK_SECONDS
        while not self._stopping.is_set():
            try:
                line = recv(MAX_LINE)
            except BlockingIOError:  # the receive timeout
                line = b""
            except OSError:
                if self._stopping.is_set():
                    return
                raise
            if line:
                take(line)
            now = time.monotonic()
            if now >= next_check:
                next_check = now + THRESHOLDS_CHECK_SECONDS
                self._read_thresholds()

    def start(self) -> None:
        for target, name in ((self._receive, "request-log"), (self._server.serve_forever, "request-metrics")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        if self._threads:
            self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            self.settings.socket.unlink()
