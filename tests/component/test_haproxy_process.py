"""Starting, adopting, reloading and stopping a real master-worker HAProxy.

The ``scene`` fixture fails a test that leaves any HAProxy process of its state
directory behind.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from taxiway.haproxy import layout, process
from taxiway.haproxy.errors import ConfigRejected, ProcessFailed, ReloadRejected
from taxiway.plan.haproxy import config
from tests.fixtures.haproxy_world import World, request, world
from tests.fixtures.sockets import free_port
from tests.fixtures.waiting import wait_for

LOCAL = "127.0.0.1"


@pytest.fixture
def scene() -> Iterator[World]:
    with world() as created:
        yield created


def ingress_text(proxy: process.Haproxy, port: int, services: tuple[str, ...] = ("hello",)) -> str:
    return config.render(
        config.Ingress(
            region="us-east1",
            domain="example.test",
            bind=config.Endpoint(LOCAL, port),
            control=proxy.layout.control(),
            services=tuple(config.IngressService(name) for name in services),
        )
    )


def everyone(proxy: process.Haproxy) -> tuple[int, ...]:
    procs = proxy.processes()
    return (procs.master, *procs.workers, *procs.old_workers)


def test_start_is_idempotent_and_another_object_adopts_and_stops_it(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    port = free_port()
    assert proxy.apply(ingress_text(proxy, port)) == "started"
    pid = proxy.master_pid()
    assert pid is not None
    assert proxy.start() == pid
    assert proxy.apply(ingress_text(proxy, port)) == "unchanged"
    assert request(port, "nothing.example.test").status == 404

    adopter = process.Haproxy(layout.Layout(proxy.layout.state_dir))
    assert adopter.master_pid() == pid
    pids = everyone(adopter)
    adopter.stop()
    assert not any(process.alive(p) for p in pids)
    assert not proxy.running()
    assert request(port, "nothing.example.test").error is not None


def test_haproxy_outlives_the_process_that_started_it(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    port = free_port()
    proxy.install(ingress_text(proxy, port))
    starter = (
        "import sys; from pathlib import Path; from taxiway.haproxy import layout, process; "
        "print(process.Haproxy(layout.Layout(Path(sys.argv[1]))).start())"
    )
    result = subprocess.run(
        [sys.executable, "-c", starter, str(proxy.layout.state_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert proxy.master_pid() == int(result.stdout)
    assert request(port, "nothing.example.test").status == 404
    proxy.stop()


def test_a_stale_pid_file_is_never_trusted(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    proxy.prepare()
    proxy.layout.pid_file.write_text(f"{os.getpid()}\n")
    assert proxy.master_pid() is None
    proxy.layout.pid_file.write_text("not a pid\n")
    assert not proxy.running()
    proxy.stop()


def test_a_config_haproxy_rejects_never_replaces_the_live_one(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    port = free_port()
    good = ingress_text(proxy, port)
    proxy.apply(good)
    before = proxy.processes()
    with pytest.raises(ConfigRejected, match="unknown keyword 'bogus'"):
        proxy.apply(good.replace("    balance leastconn\n", "    bogus 1\n"))
    assert proxy.layout.config_file.read_text() == good
    assert not (proxy.layout.state_dir / "haproxy.cfg.new").exists()
    assert proxy.processes() == before
    assert request(port, "hello.example.test").status == 503


def test_a_reload_the_master_cannot_load_is_reported_and_the_old_workers_serve_on(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    port = free_port()
    good = ingress_text(proxy, port)
    proxy.apply(good)
    with socket.socket() as taken:
        taken.bind((LOCAL, 0))
        taken.listen()
        busy_port = taken.getsockname()[1]
        # `haproxy -c` does not bind, so only the reload itself can find the port taken.
        clash = good.replace("    bind 127.0.0.1:", f"    bind 127.0.0.1:{busy_port}\n    bind 127.0.0.1:")
        with pytest.raises(ReloadRejected, match=r"cannot bind|Address already in use"):
            proxy.apply(clash)
    assert proxy.layout.config_file.read_text() == good
    assert request(port, "hello.example.test").status == 503
    assert proxy.apply(ingress_text(proxy, port, ("hello", "other"))) == "reloaded"
    assert request(port, "other.example.test").status == 503


def test_a_start_that_fails_reports_haproxys_log(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    with socket.socket() as taken:
        taken.bind((LOCAL, 0))
        taken.listen()
        proxy.install(ingress_text(proxy, taken.getsockname()[1]))
        with pytest.raises(ProcessFailed, match="exited with status"):
            proxy.start()
    assert not proxy.running()


def test_stop_waits_for_a_worker_still_serving_after_a_reload(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    port = free_port()
    proxy.apply(ingress_text(proxy, port))
    first = proxy.processes().workers
    proxy.apply(ingress_text(proxy, port, ("hello", "other")))
    wait_for(lambda: not any(process.alive(p) for p in first), within=10, what="the old worker to leave")
    pids = everyone(proxy)
    proxy.stop(graceful=False)
    assert not any(process.alive(p) for p in pids)
    assert not proxy.layout.pid_file.exists()


def test_server_state_survives_a_reload_but_not_a_restart(scene: World) -> None:
    proxy = scene.haproxy("ingress")
    port = free_port()
    text = config.render(
        config.Ingress(
            region="us-east1",
            domain="example.test",
            bind=config.Endpoint(LOCAL, port),
            control=proxy.layout.control(),
            services=(config.IngressService("hello", (config.Instance("i-0", free_port()),)),),
        )
    )
    proxy.apply(text)
    proxy.api.set_server_state("hello", "i-0", "drain")
    proxy.apply(text + "\n")
    assert proxy.api.show_servers_state("hello")[0].draining
    proxy.stop()
    proxy.start()
    assert not proxy.api.show_servers_state("hello")[0].draining
