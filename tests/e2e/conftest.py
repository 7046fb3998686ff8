"""Fixtures for the end-to-end tier: a world of real processes, checked empty at the end."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.e2e.world import World

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, object]:
    report = yield
    if getattr(report, "when", None) == "call" and getattr(report, "failed", False):
        item.stash[FAILED] = True
    return report


@pytest.fixture
def bare_world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    """A world nothing runs in yet; the test starts what it needs. Teardown stops it all."""
    world = World(root=tmp_path)
    yield world
    left = world.teardown()
    if request.node.stash.get(FAILED, False) or left:
        print(world.logs())  # shown by pytest with the failure
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def world(bare_world: World) -> World:
    """A control plane and one satellite per region, every satellite reported."""
    bare_world.start()
    return bare_world
