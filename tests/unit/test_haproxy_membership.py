"""Planning an ingress backend's membership: add, drain, wait, remove, readmit. Pure."""

from __future__ import annotations

import pytest

from taxiway.haproxy import membership
from taxiway.haproxy.errors import ServerBusy
from taxiway.haproxy.runtime_api import RuntimeApi, ScriptedTransport
from taxiway.plan.haproxy import answers, config

READY = answers.AdminState(0)
DRAIN = answers.AdminState.FORCED_DRAIN
MAINT = answers.AdminState.FORCED_MAINT


def seen(port: int, state: answers.AdminState = READY, sessions: int = 0) -> membership.Observed:
    return membership.Observed("127.0.0.1", port, state, sessions)


A = config.Instance("hello-production-r1-0", 41001)
B = config.Instance("hello-production-r2-0", 41002)


def plan(
    wanted: list[config.Instance],
    observed: dict[str, membership.Observed],
    since: dict[str, float] | None = None,
    now: float = 100.0,
) -> list[membership.Action]:
    return membership.plan(wanted, observed, draining_since=since or {}, now=now, grace=30.0)


def test_nothing_to_do_when_haproxy_matches() -> None:
    assert plan([A], {A.name: seen(41001)}) == []


def test_a_new_instance_is_added_and_an_old_one_drained_first() -> None:
    assert plan([B], {A.name: seen(41001, sessions=3)}) == [membership.Add(B), membership.Drain(A.name)]


def test_a_draining_server_is_removed_once_idle() -> None:
    observed = {A.name: seen(41001, DRAIN, sessions=0), B.name: seen(41002)}
    assert plan([B], observed, since={A.name: 99.0}) == [membership.Remove(A.name)]


def test_a_busy_draining_server_waits_for_its_grace_period() -> None:
    observed = {A.name: seen(41001, DRAIN, sessions=2), B.name: seen(41002)}
    assert plan([B], observed, since={A.name: 80.0}, now=100.0) == []
    assert plan([B], observed, since={A.name: 80.0}, now=110.0) == [membership.Remove(A.name)]


def test_a_drain_whose_start_was_forgotten_is_not_waited_for() -> None:
    observed = {A.name: seen(41001, DRAIN, sessions=2)}
    assert plan([], observed) == [membership.Remove(A.name)]


def test_a_server_in_maintenance_and_unwanted_is_removed() -> None:
    assert plan([], {A.name: seen(41001, MAINT)}) == [membership.Remove(A.name)]


def test_a_wanted_server_that_was_drained_is_readmitted() -> None:
    assert plan([A], {A.name: seen(41001, DRAIN, sessions=1)}) == [membership.Readmit(A.name)]
    assert plan([A], {A.name: seen(41001, MAINT)}) == [membership.Readmit(A.name)]


def test_a_moved_instance_is_readdressed() -> None:
    moved = config.Instance(A.name, 41009)
    assert plan([moved], {A.name: seen(41001)}) == [membership.Readdress(moved)]


def test_apply_speaks_the_runtime_api_in_order() -> None:
    def answer(command: str) -> str:
        if command.startswith("add server"):
            return "New server registered.\n"
        if command.startswith("del server"):
            return "Server deleted.\n"
        if command.startswith("set server") and " addr " in command:
            return "IP changed from '127.0.0.1' to '127.0.0.1', port changed from '41001' to '41009'\n"
        return "\n"

    transport = ScriptedTransport(answer)
    check = config.InstanceCheck(interval=1.0)
    membership.apply(
        RuntimeApi(transport),
        "hello",
        check,
        [
            membership.Add(B),
            membership.Readdress(config.Instance(A.name, 41009)),
            membership.Readmit(A.name),
            membership.Drain(A.name),
            membership.Remove(A.name),
        ],
    )
    options = " ".join(config.instance_options(check, B))
    assert transport.sent == [
        f"add server hello/{B.name} 127.0.0.1:41002 {options}",
        f"enable health hello/{B.name}",
        f"set server hello/{B.name} state ready",
        f"set server hello/{A.name} addr 127.0.0.1 port 41009",
        f"set server hello/{A.name} state ready",
        f"set server hello/{A.name} state drain",
        f"set server hello/{A.name} state maint",
        f"shutdown sessions server hello/{A.name}",
        f"del server hello/{A.name}",
    ]


def test_a_busy_removal_bounces_through_drain_once_then_reports_busy() -> None:
    deletions = iter(
        ["Server still has connections attached to it, cannot remove it.\n", "Server deleted.\n"]
    )

    def answer(command: str) -> str:
        return next(deletions) if command.startswith("del server") else "\n"

    transport = ScriptedTransport(answer)
    membership.remove(RuntimeApi(transport), "hello", "i")
    assert transport.sent == [
        "set server hello/i state maint",
        "shutdown sessions server hello/i",
        "del server hello/i",
        "set server hello/i state drain",
        "set server hello/i state maint",
        "del server hello/i",
    ]
    busy = ScriptedTransport(
        lambda c: (
            "Server still has connections attached to it, cannot remove it.\n" if c.startswith("del") else ""
        )
    )
    with pytest.raises(ServerBusy):
        membership.remove(RuntimeApi(busy), "hello", "i")
