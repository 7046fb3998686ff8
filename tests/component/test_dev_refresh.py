"""``dev up`` on a world that is up already: its control plane reloads the files, or it says why not.

A real child process stands in for the control plane (it records the SIGHUP it gets),
named in ``supervisor.json`` by pid and start time as the supervisor writes it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxiway.dev import layout as paths
from taxiway.dev import platform_refresh, private_file, processes
from taxiway.dev import settings as world_settings
from taxiway.errors import ValidationFailed
from taxiway.runtime import process
from tests.conftest import EXAMPLES

WAITS_FOR_SIGHUP = """
import pathlib, signal, sys, time
flag = pathlib.Path(sys.argv[1])
signal.signal(signal.SIGHUP, lambda *_: flag.write_text("reload"))
pathlib.Path(sys.argv[2]).write_text("ready")
time.sleep(60)
"""


@pytest.fixture
def world(
    tmp_path: Path,
) -> Iterator[tuple[paths.Layout, world_settings.WorldSettings, subprocess.Popen[bytes]]]:
    for name in ("topology.yaml", "inventory.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    layout = paths.Layout(tmp_path)
    started = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", WAITS_FOR_SIGHUP, str(tmp_path / "hup"), str(started)])
    deadline = time.monotonic() + 20
    while not started.exists():
        assert time.monotonic() < deadline, "the stand-in control plane did not start"
        time.sleep(0.02)
    identity = process.identify(child.pid)
    assert identity is not None
    private_file.write_json(
        layout.supervisor_file, {"children": {paths.CONTROL_PLANE: processes.to_record(identity)}}
    )
    settings = world_settings.WorldSettings(
        python=sys.executable,
        database="sqlite:///x",
        topology=tmp_path / "topology.yaml",
        inventory=tmp_path / "inventory.yaml",
        regions=("us-east1", "europe-west1", "asia-northeast3"),
        control_plane_port=7700,
    )
    yield layout, settings, child
    child.kill()
    child.wait(timeout=10)


def test_the_worlds_own_files_are_checked_then_reloaded_with_sighup(
    world: tuple[paths.Layout, world_settings.WorldSettings, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    layout, settings, child = world
    notes = platform_refresh.apply(layout, settings, settings.topology, settings.inventory)
    assert notes[0].startswith(f"asked the control plane (pid {child.pid}) to reload")
    deadline = time.monotonic() + 10
    while not (tmp_path / "hup").exists():
        assert time.monotonic() < deadline, "the control plane got no SIGHUP"
        time.sleep(0.02)

    (tmp_path / "hup").unlink()
    settings.inventory.write_text(settings.inventory.read_text().replace("us-east1,", "mars-north1,"))
    with pytest.raises(ValidationFailed):
        platform_refresh.apply(layout, settings, settings.topology, settings.inventory)
    assert not (tmp_path / "hup").exists(), "a bad file was signalled"


def test_other_files_are_not_applied_and_it_says_so(
    world: tuple[paths.Layout, world_settings.WorldSettings, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    layout, settings, _child = world
    other = tmp_path / "other-inventory.yaml"
    shutil.copy(settings.inventory, other)
    (note,) = platform_refresh.apply(layout, settings, settings.topology, other)
    assert note.startswith(f"not applied: --inventory {other} (the world runs with {settings.inventory})")
    assert "taxiway services create" in note
    assert not (tmp_path / "hup").exists()
