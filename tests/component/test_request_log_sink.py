"""The request log path for real: an ingress HAProxy logging to a request log sink process.

Two instances of one service run two revisions (loopback origins that count every
request they answer, so the expected counts per revision are known exactly, whatever
HAProxy's balancing chose); a second service has no instance (HAProxy's own 503,
``<NOSRV>``). The sink is the real ``taxiway ingress-log-sink`` process, started and
stopped as the satellite does (:mod:`taxiway.observability.sink_process`).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from taxiway.observability import datagram_queue, sink_process
from taxiway.plan.haproxy import config
from taxiway.plan.observability import latency_thresholds, names
from taxiway.spec.manifest import CHECK_USER_AGENT
from tests.fixtures.haproxy_world import World, request, world
from tests.fixtures.sockets import free_port
from tests.fixtures.waiting import wait_for

LOCAL = "127.0.0.1"
DOMAIN = "example.test"
CHECK = config.InstanceCheck(path=None, interval=0.2, timeout=1.0, rise=1, fall=2)
QUEUE = 8
THRESHOLD = 0.3
"""Not one of the default bounds: it must show up as a bucket bound of its own."""


@pytest.fixture
def scene() -> Iterator[World]:
    with world() as created:
        yield created


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> tuple[str, Samples]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class Scene:
    def __init__(self, world: World) -> None:
        self.world = world
        self.r3, self.r4 = (
            world.origin("hello-production-r3-0"),
            world.origin("hello-production-r4s0123abcd-1"),
        )
        self.r4.healthy = False  # its /health answers 503: a 5xx of revision 4
        self.port, metrics = free_port(), free_port()
        self.proxy = world.haproxy("ingress")
        directory = self.proxy.layout.state_dir
        directory.mkdir(mode=0o700, parents=True)
        self.socket = directory / "log.sock"
        self.thresholds = directory / "latency-thresholds.json"
        document = latency_thresholds.document({"hello": (THRESHOLD,)}, {"hello": ("9",)})
        self.thresholds.write_text(json.dumps(document))
        self.sink = sink_process.SinkProcess(directory)
        self.flags = sink_process.SinkFlags(
            socket=self.socket,
            metrics_host=LOCAL,
            metrics_port=free_port(),
            stats_socket=self.proxy.layout.stats_socket,
            thresholds_file=self.thresholds,
        )
        self.sink.ensure(self.flags)
        services = (
            config.IngressService(
                "hello",
                (config.Instance(self.r3.name, self.r3.port), config.Instance(self.r4.name, self.r4.port)),
                CHECK,
            ),
            config.IngressService("empty", (), CHECK),
        )
        self.proxy.apply(
            config.render(
                config.Ingress(
                    region="eu-west",
                    domain=DOMAIN,
                    bind=config.Endpoint(LOCAL, self.port),
                    control=self.proxy.layout.control(config.Endpoint(LOCAL, metrics)),
                    services=services,
                    request_log=self.socket,
                )
            )
        )

    def get(self, service: str, path: str = "/") -> int:
        return request(self.port, f"{service}.{DOMAIN}", path).status

    def scrape(self) -> tuple[str, Samples]:
        return scrape(self.flags.metrics_url)

    def wait_lines(self, lines: int) -> Samples:
        def arrived() -> Samples | None:
            samples = self.scrape()[1]
            return samples if value(samples, names.INGRESS_LOG_LINES) >= lines else None

        return wait_for(arrived, within=10, what=f"{lines} request log lines at the sink")

    def close(self) -> None:
        self.sink.stop()


def test_the_sink_counts_every_request_by_revision_and_code_class(scene: World) -> None:
    here = Scene(scene)
    try:
        # In rounds of at most QUEUE lines, each waited for: the socket's queue holds only a
        # few datagrams (net.unix.max_dgram_qlen), and on a busy machine a sink descheduled
        # for a few milliseconds would see lines dropped (counted: the next test). Here
        # every line must arrive, so the counts can be compared exactly.
        # The revision the satellite says is coming has its counters before any request.
        first = wait_for(lambda: here.scrape()[1], within=10, what="the sink's first exposition")
        coming = {"service": "hello", "environment": "production", "revision": "9"}
        assert value(first, names.INGRESS_REQUESTS, **coming, code_class="5xx") == 0
        assert value(first, names.INGRESS_DURATION + "_count", **coming) == 0
        sent = 0
        for index in range(120):
            path = "/health" if index % 3 == 0 else "/"
            assert here.get("hello", path) in (200, 503)
            sent += 1
            if sent % QUEUE == 0:
                here.wait_lines(sent)
        for _ in range(7):
            assert here.get("empty") == 503  # no instance: <NOSRV>
        assert here.get("nosuch") == 404  # the ingress's own be_unknown: not a service's request
        before = {"3": here.r3.requests("/"), "4": here.r4.requests("/")}
        for _ in range(3):  # a PoP's monitor checks: not users' requests, not logged at all
            monitor = request(here.port, f"hello.{DOMAIN}", "/", headers={"User-Agent": CHECK_USER_AGENT})
            assert monitor.status == 200
        checks = {"3": here.r3.requests("/") - before["3"], "4": here.r4.requests("/") - before["4"]}
        assert sum(checks.values()) == 3
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as raw:
            raw.sendto(b"tw1 not a request line\n", str(here.socket))
        samples = here.wait_lines(sent + 7 + 1 + 1)

        expected = {
            ("3", "2xx"): here.r3.requests("/") + here.r3.requests("/health") - checks["3"],
            ("4", "2xx"): here.r4.requests("/") - checks["4"],
            ("4", "5xx"): here.r4.requests("/health"),
        }
        assert sum(expected.values()) == sent
        for (revision, code_class), count in expected.items():
            got = value(
                samples,
                names.INGRESS_REQUESTS,
                service="hello",
                environment="production",
                revision=revision,
                code_class=code_class,
            )
            assert got == count, (revision, code_class)
        assert value(samples, names.INGRESS_REQUESTS, service="empty", environment="production",
                     revision=names.NO_REVISION, code_class="5xx") == 7  # fmt: skip
        requests = [v for (name, _), v in samples.items() if name == names.INGRESS_REQUESTS]
        assert sum(requests) == sent + 7  # nothing else: be_unknown's 404 is no service's
        assert value(samples, names.INGRESS_LOG_LINES) == sent + 7 + 1 + 1
        assert value(samples, names.INGRESS_LOG_UNPARSED) == 1
        assert value(samples, names.INGRESS_LOG_DROPPED) == 0

        for revision, origin in (("3", here.r3), ("4", here.r4)):
            labels = {"service": "hello", "environment": "production", "revision": revision}
            observed = value(samples, names.INGRESS_DURATION + "_count", **labels)
            assert observed == origin.hits.total() - checks[revision]  # every other hit is a request
            buckets = sorted(
                (float(dict(key)["le"]), v)
                for (name, key), v in samples.items()
                if name == names.INGRESS_DURATION + "_bucket" and dict(key)["revision"] == revision
            )
            bounds = [bound for bound, _ in buckets]
            assert bounds == [*names.buckets_for([THRESHOLD]), float("inf")]
            assert THRESHOLD in bounds
            counts = [v for _, v in buckets]
            assert counts == sorted(counts)
            assert counts[-1] == observed

        text = here.scrape()[0]
        promtool = shutil.which("promtool")
        if promtool is None:
            pytest.fail("promtool is not installed: run scripts/bootstrap.sh's ensure_observability")
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert not checked.stdout.strip(), checked.stdout
    finally:
        here.close()


def test_a_stalled_sink_never_slows_haproxy_and_every_line_is_received_or_counted_dropped(
    scene: World,
) -> None:
    here = Scene(scene)
    try:
        assert here.get("hello") == 200
        here.wait_lines(1)
        pid = here.sink.pid()
        assert pid is not None
        # More lines than the socket's queue (the sink raised it to 4096 if it could) and
        # HAProxy's send buffer (about 550 lines) hold together.
        queue = int(datagram_queue.SYSCTL.read_text())
        stalled = queue + 1000
        os.kill(pid, signal.SIGSTOP)  # a sink that reads nothing: its socket's queue fills up
        try:
            connection = http.client.HTTPConnection(LOCAL, here.port, timeout=10)
            try:
                for _ in range(stalled):
                    connection.request("GET", "/", headers={"Host": f"hello.{DOMAIN}"})
                    answer = connection.getresponse()
                    answer.read()
                    assert answer.status == 200  # served all the same: HAProxy does not wait
            finally:
                connection.close()
        finally:
            os.kill(pid, signal.SIGCONT)
        sent = stalled + 1

        def settled() -> Samples | None:
            samples = here.scrape()[1]
            lines, dropped = (
                value(samples, names.INGRESS_LOG_LINES),
                value(samples, names.INGRESS_LOG_DROPPED),
            )
            return samples if lines + dropped >= sent else None

        samples = wait_for(settled, within=10, what="every line received or counted dropped")
        lines, dropped = value(samples, names.INGRESS_LOG_LINES), value(samples, names.INGRESS_LOG_DROPPED)
        assert lines + dropped == sent
        assert dropped > 0
        served = value(
            samples, names.INGRESS_REQUESTS, service="hello", environment="production", revision="3",
            code_class="2xx",
        ) + value(
            samples, names.INGRESS_REQUESTS, service="hello", environment="production", revision="4",
            code_class="2xx",
        )  # fmt: skip
        assert served == lines
    finally:
        here.close()


def test_a_sink_is_adopted_with_the_same_flags_and_replaced_with_others() -> None:
    directory = Path(tempfile.mkdtemp(prefix="tw-", dir="/tmp"))
    try:
        flags = sink_process.SinkFlags(
            socket=directory / "log.sock", metrics_host=LOCAL, metrics_port=free_port()
        )
        first = sink_process.SinkProcess(directory)
        assert first.ensure(flags)
        pid = first.pid()
        first.detach()
        again = sink_process.SinkProcess(directory)
        assert not again.ensure(flags)
        assert again.pid() == pid
        moved = sink_process.SinkFlags(socket=flags.socket, metrics_host=LOCAL, metrics_port=free_port())
        assert again.ensure(moved)
        assert again.pid() not in (None, pid)
        scrape(moved.metrics_url)
        again.stop()
        assert again.pid() is None
    finally:
        shutil.rmtree(directory, ignore_errors=True)
