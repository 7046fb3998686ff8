"""Fixtures for the end-to-end tier: a world of real processes, checked empty at the end.

A world costs seconds to start and to deploy hello into. Tests that each leave it as they
found it (hello ready in every region, every process of it running) share one per module
through ``shared_world``; a test that changes the world for good takes its own (``world``)."""

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


@pytest.fixture(scope="module")
def module_world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    """A control plane and one satellite per region for every test of one module; checked
    empty after the module's last test."""
    world = World(root=tmp_path_factory.mktemp("world"))
    failed_before = request.session.testsfailed
    try:
        world.start()
        yield world
    finally:
        left = world.teardown()
        if request.session.testsfailed > failed_before or left:
            print(world.logs())  # shown by pytest with the failure
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def shared_world(module_world: World, request: pytest.FixtureRequest) -> Iterator[World]:
    """The module's world (:func:`module_world`), for a test that leaves it as it found it:
    hello ready in every region at the revision it started from. Its logs are printed with
    the test's failure."""
    yield module_world
    if request.node.stash.get(FAILED, False):
        print(module_world.logs())
