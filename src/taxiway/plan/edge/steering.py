"""Which order a PoP puts one service's pools in, from what its own checks measured. Pure.

:mod:`taxiway.edge.controller` calls :func:`step` for every service on every tick with
the service's ``show stat`` rows (one per pool server) and the time; it gets back the new
:class:`State`, whose ``order`` goes into the rendered config (a change of order is a
reload). No I/O and no clock of its own, so the rules below are tested on virtual time.

* **Sampling.** A pool's last check duration (``check_duration``, ms, through the PoP's
  own connection to the region) is folded into its moving average
  (:func:`taxiway.plan.edge.rtt.update`) at most once per monitor interval, since HAProxy
  runs one check per interval; the *first* sample of a pool is taken as soon as it
  exists, so the order can be right one interval after the checks start. Only passed
  checks count (a failed check's duration is its timeout). Every service is measured, so
  ``glb status`` shows an RTT for ``failover`` services too.
* **``failover``** steering: the failover order, always.
* **``dynamic_latency``**: fastest first, by :func:`taxiway.plan.edge.rtt.order` with a dead
  band, starting from the order in force, so noise does not reload the PoP. With no data
  it keeps the order in force: the failover order, or for a PoP that adopted a running
  HAProxy (edge restarted) that HAProxy's order, so a restart does not reload to failover
  order and back. It waits until every pool that is *up* has been measured
  (ranking a measured pool against a guessed one would be a guess); a pool that is down
  and was never measured is not waited for, and goes after the measured ones in failover
  order, so a region that is dead from the start cannot freeze steering. A measured pool
  that goes down keeps its place and its estimate: it is out of rotation while down
  (HAProxy skips it), and when it comes back after consecutive_up checks it serves again
  at once, without a reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from taxiway.plan.edge import rtt

SAMPLE_EVERY = 0.9
"""Fold a pool's sample when this many monitor intervals passed since its last one: a
little under one, so ticks that drift late never skip a check."""


@dataclass(frozen=True)
class State:
    order: tuple[str, ...]
    estimates: Mapping[str, rtt.Estimate] = field(default_factory=dict)
    sampled_at: Mapping[str, float] = field(default_factory=dict)


def initial(failover: Sequence[str], running: Sequence[str] = ()) -> State:
    """Before any sample: the order of the running HAProxy when it has exactly these pools
    (an adopted PoP keeps its order while it measures again), else the failover order."""
    in_force = tuple(p for p in running if p in failover)
    if len(in_force) == len(failover) and set(in_force) == set(failover):
        return State(in_force)
    return State(tuple(failover))


def healthy(row: rtt.CheckRow) -> bool:
    """In rotation by its checks: ``UP``, or ``UP 1/2`` (failing, not yet down)."""
    return row.status.startswith("UP")


def measured(row: rtt.CheckRow, settled: bool) -> bool:
    """Whether the row's check result comes from a check this worker ran (see :func:`step`)."""
    return settled or (row.check_code or 0) >= 100


def decide(
    failover: Sequence[str],
    estimates: Mapping[str, rtt.Estimate],
    up: set[str] | frozenset[str],
    current: Sequence[str],
    band: rtt.Band,
) -> tuple[str, ...]:
    """The ``dynamic_latency`` order (see the module docstring)."""
    pools = tuple(failover)
    in_force = (*(p for p in current if p in pools), *(p for p in pools if p not in current))
    if any(p in up and p not in estimates for p in pools) or not estimates:
        return in_force
    measured = [p for p in pools if p in estimates]
    ranked = rtt.order(measured, estimates, current=[p for p in in_force if p in estimates], band=band)
    return (*ranked, *(p for p in pools if p not in estimates))


def step(
    state: State,
    *,
    steering: str,
    failover: Sequence[str],
    rows: Mapping[str, rtt.CheckRow],
    interval: float,
    now: float,
    alpha: float,
    band: rtt.Band,
    settled: bool = True,
) -> State:
    """One tick for one service: fold due samples in, then order the pools.

    ``settled=False``: HAProxy started or reloaded so recently that a pool's row may still
    show the check result the reload restored from its state file (``L7OK`` or ``L4OK``
    with a duration of 0), not a measurement; only rows that prove a real check (an HTTP
    check's status code, which a restored row lacks) are sampled then."""
    pools = tuple(failover)
    estimates = {p: e for p, e in state.estimates.items() if p in pools}
    sampled_at = {p: t for p, t in state.sampled_at.items() if p in pools}
    samples = {
        pool: value
        for pool, value in rtt.sample(
            {p: r for p, r in rows.items() if p in pools and measured(r, settled)}
        ).items()
        if pool not in sampled_at or now - sampled_at[pool] >= SAMPLE_EVERY * interval
    }
    estimates = rtt.observe(estimates, samples, alpha)
    sampled_at.update(dict.fromkeys(samples, now))
    if steering == "dynamic_latency":
        up = {p for p, row in rows.items() if p in pools and healthy(row)}
        order = decide(pools, estimates, up, state.order, band)
    else:
        order = pools
    return State(order, estimates, sampled_at)
