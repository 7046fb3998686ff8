"""The one port chooser: the old port while it is free, a new one once it is taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from taxiway.system import ports

HOST = "127.0.0.1"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """Another program listening on a loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen()
        yield sock


def test_the_old_port_is_kept_while_it_is_free() -> None:
    previous = ports.free(HOST)
    assert ports.bindable(HOST, previous)
    assert ports.keep_or_pick(previous, HOST) == previous


def test_a_taken_port_is_replaced_by_a_free_one(listener: socket.socket) -> None:
    taken = int(listener.getsockname()[1])
    assert not ports.bindable(HOST, taken)
    chosen = ports.keep_or_pick(taken, HOST)
    assert chosen != taken
    assert ports.bindable(HOST, chosen)


def test_our_own_listener_keeps_its_port(listener: socket.socket) -> None:
    """An adopted HAProxy holds the kept port: it is ours, so it stays."""
    held = int(listener.getsockname()[1])
    assert ports.keep_or_pick(held, HOST, ours=True) == held


def test_no_previous_port_or_one_to_avoid_picks_another() -> None:
    first = ports.keep_or_pick(None, HOST)
    assert ports.bindable(HOST, first)
    assert ports.keep_or_pick(first, HOST, avoid={first}) != first


def test_many_free_ports_are_distinct() -> None:
    chosen = ports.free_many([HOST] * 5)
    assert len(set(chosen)) == 5
