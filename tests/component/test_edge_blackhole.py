"""A region that stops answering without closing anything, behind a real edge PoP.

The serving region is *blackholed* (:meth:`Region.blackhole`): its socket keeps listening,
connections still complete in the kernel, and nothing is accepted, read or written any
more. Refused connections are easy (``observe layer4`` marks the pool down on the first
one); silence is detected only by the monitor, whose checks run into their timeout. The
test measures how long the pool stays in rotation (the issue's bound: (consecutive_down
+ 1) × interval) and what happens to the requests sent meanwhile under a bounded load of
four concurrent GET loops, and prints both.

Requests that reached the silent region wait for the edge's response timeout (1 s here),
then are retried, being idempotent, on the next pool (``retry-on response-timeout``,
``option redispatch``), which serves them once the monitor took the silent pool out.
So none fails; they are slow by up to the response timeout. A client less patient than
the edge's response timeout (30 s by default) would count each of them as an error: at
most one per concurrent client in flight when the region went silent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.fixtures.edge_world import (
    MONITOR,
    EdgeWorld,
    Load,
    edge_world,
    pool_status,
    served_by,
    service_config,
    wait_served_by,
)
from tests.fixtures.waiting import wait_for

RESPONSE_TIMEOUT = 1.0
CLIENTS = 4
CLIENT_TIMEOUT = 5.0


@pytest.fixture
def w() -> Iterator[EdgeWorld]:
    with edge_world() as created:
        yield created


@pytest.mark.slow
def test_a_blackholed_region_leaves_rotation_within_consecutive_down_plus_one_intervals(w: EdgeWorld) -> None:
    far, near = w.region("us-east1", 0.040), w.region("europe-west1", 0.005)
    w.cp.set_services([service_config([far, near])])
    edge = w.edge(w.settings(response_timeout_seconds=RESPONSE_TIMEOUT))
    wait_served_by(edge, "europe-west1", within=5)
    bound = (MONITOR["consecutive_down"] + 1) * MONITOR["interval"]

    loads = [Load(edge, timeout=CLIENT_TIMEOUT) for _ in range(CLIENTS)]
    for load in loads:
        load.__enter__()
    try:
        for load in loads:
            load.wait_count(20)
        marks = [len(load.replies) for load in loads]
        near.blackhole()
        silent_at = time.monotonic()
        left_at = wait_for(
            lambda: pool_status(edge, "europe-west1").startswith("DOWN") and time.monotonic(),
            within=5,
            what="the silent pool to leave rotation",
        )
        # every request in flight at the silence has had its response timeout and retry
        wait_for(
            lambda: all(
                any(
                    sent > left_at + RESPONSE_TIMEOUT and reply.ok
                    for sent, reply in zip(load.sent_at, load.replies, strict=False)
                )
                for load in loads
            ),
            within=CLIENT_TIMEOUT + 5,
            what="every client to be served after the window",
        )
    finally:
        for load in loads:
            load.__exit__(None, None, None)

    left_after = left_at - silent_at
    window = [
        (sent, reply)
        for load, mark in zip(loads, marks, strict=True)
        for sent, reply in zip(load.sent_at[mark:], load.replies[mark:], strict=True)
        if sent <= left_at
    ]
    failed = [reply for _, reply in window if not reply.ok]
    slow = [reply.at - sent for sent, reply in window if reply.at - sent > RESPONSE_TIMEOUT / 2]
    everything = [reply for load in loads for reply in load.replies]
    print(
        f"\nblackhole: the silent pool left rotation {left_after * 1000:.0f} ms after it went silent "
        f"(bound {bound * 1000:.0f} ms); {len(window)} GETs sent in that window by {CLIENTS} clients, "
        f"{len(failed)} failed {[r.error or r.status for r in failed]}, {len(slow)} waited the response "
        f"timeout (longest {max(slow, default=0) * 1000:.0f} ms); {len(everything)} GETs in all, "
        f"{sum(not r.ok for r in everything)} failed"
    )
    assert left_after <= bound + 0.05  # + one poll of the runtime API
    assert failed == []
    assert len(slow) <= CLIENTS  # at most the one request each client had in flight
    assert max(slow, default=0) < 2 * RESPONSE_TIMEOUT + 0.5
    assert all(r.ok for r in everything)
    assert served_by(everything[-1]) == "us-east1"
