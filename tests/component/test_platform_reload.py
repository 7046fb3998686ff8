"""The control plane's platform files reloaded in place, against a real SQLite store."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxiway.server import platform_files
from taxiway.spec import platform
from taxiway.store.sql import SqlStore
from tests.conftest import EXAMPLES

NEW_REGION = """      - name: us-west1
        runtime: {driver: local}
        datacenters:
          - name: us-west1-a
            nodes:
              - {name: node-1, capacity: {cpu: 4, memory: 8Gi, max_instances: 8}}
"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[platform_files.LivePlatform, SqlStore]]:
    for name in ("topology.yaml", "inventory.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    topology = platform.load_topology(tmp_path / "topology.yaml")
    inventory = platform.load_inventory(tmp_path / "inventory.yaml", topology)
    store = SqlStore.open(f"sqlite:///{tmp_path / 'taxiway.db'}")
    platform_files.sync(store, topology, inventory, "test")
    yield (
        platform_files.LivePlatform(
            topology,
            inventory,
            topology_path=tmp_path / "topology.yaml",
            inventory_path=tmp_path / "inventory.yaml",
        ),
        store,
    )
    store.close()


def test_a_new_region_and_a_broken_topology(
    live: tuple[platform_files.LivePlatform, SqlStore], tmp_path: Path
) -> None:
    files, store = live
    path = tmp_path / "topology.yaml"
    original = path.read_text()
    path.write_text(original.replace("  - name: europe\n", NEW_REGION + "  - name: europe\n"))
    assert files.changed_on_disk()
    done = files.reload(store, "test")
    assert done.changed
    assert "us-west1" in files.topology.regions
    assert "us-west1" in {r.name for r in store.regions()}
    assert not files.changed_on_disk()

    path.write_text(original.replace("driver: local", "driver: lokal", 1))
    refused = files.reload(store, "test")
    assert not refused.changed
    assert refused.error is not None
    assert f"{path}:10:" in refused.error, "the problem is located in the file"
    assert "us-west1" in files.topology.regions, "the previous topology stays"
    assert not files.changed_on_disk(), "the same bad bytes are not tried again every poll"


def test_the_watcher_reloads_when_poked(
    live: tuple[platform_files.LivePlatform, SqlStore], tmp_path: Path
) -> None:
    files, store = live
    reloaded = threading.Event()

    def reload() -> platform_files.Reloaded:
        done = files.reload(store, "test")
        reloaded.set()
        return done

    watcher = platform_files.Watcher(files, reload, poll_seconds=60)  # only a poke can wake it in time
    watcher.start()
    try:
        started = time.monotonic()
        watcher.poke()
        assert reloaded.wait(10)
        assert time.monotonic() - started < 10
    finally:
        watcher.stop()
