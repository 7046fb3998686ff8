"""``dynamic_latency`` steering: order a service's pools by the RTT this PoP measures.

The edge process samples each pool's last health-check duration (``check_duration`` in
``show stat``, milliseconds) and folds it into an exponentially weighted moving average;
the pools are then ordered fastest first. It never reads the topology's latency table:
only what this PoP sees on the wire counts.

* Until every pool has a sample, the order is the failover order — ordering some pools
  by measurement and others by assumption would rank a pool never measured by accident.
* The first sample of a pool *is* its estimate (no prior to climb out of), so with clean
  samples the right order holds from the first probe interval, and ``alpha = 0.5`` lets
  a pool whose RTT changes overtake within three samples while damping one noisy probe.
* Equal estimates keep the failover order (a stable tie-break), and with ``current``
  given a pool overtakes the one ahead of it only when it is faster by more than a dead
  band, because every change of order is a reload of the PoP's HAProxy.

Pure: no I/O, no clock; the caller decides when a sample is new (see :func:`sample`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

DEFAULT_ALPHA = 0.5


class CheckRow(Protocol):
    """What steering reads of one pool server's ``show stat`` row (the PoP passes
    :class:`taxiway.plan.haproxy.answers.StatRow`): the decisions need no HAProxy to test."""

    @property
    def status(self) -> str: ...

    @property
    def check_code(self) -> int | None: ...

    @property
    def check_duration_ms(self) -> int | None: ...

    @property
    def check_passed(self) -> bool: ...


@dataclass(frozen=True)
class Estimate:
    rtt_ms: float
    samples: int


@dataclass(frozen=True)
class Band:
    """How much faster a pool must be to overtake: ``max(relative × ahead, absolute_ms)``."""

    relative: float = 0.1
    absolute_ms: float = 2.0

    def beats(self, challenger: float, incumbent: float) -> bool:
        return challenger < incumbent - max(self.relative * incumbent, self.absolute_ms)


NO_BAND = Band(relative=0.0, absolute_ms=0.0)


def update(previous: Estimate | None, sample_ms: float, alpha: float = DEFAULT_ALPHA) -> Estimate:
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if sample_ms < 0:
        raise ValueError(f"an RTT sample cannot be negative, got {sample_ms}")
    if previous is None:
        return Estimate(rtt_ms=float(sample_ms), samples=1)
    return Estimate(
        rtt_ms=alpha * sample_ms + (1.0 - alpha) * previous.rtt_ms,
        samples=previous.samples + 1,
    )


def observe(
    estimates: Mapping[str, Estimate], samples: Mapping[str, float], alpha: float = DEFAULT_ALPHA
) -> dict[str, Estimate]:
    """Fold one round of samples (pool → ms) into the estimates; pools not sampled keep theirs."""
    folded = dict(estimates)
    for pool, sample_ms in samples.items():
        folded[pool] = update(estimates.get(pool), sample_ms, alpha)
    return folded


def order(
    failover: Sequence[str],
    estimates: Mapping[str, Estimate],
    *,
    current: Sequence[str] | None = None,
    band: Band = NO_BAND,
) -> tuple[str, ...]:
    """Pools fastest first; ``failover`` order until every pool has an estimate.

    With ``current`` (the order in force) and a ``band``, the result is ``current``
    with only those adjacent swaps where the later pool beats the earlier by more than
    the band, repeated until none is left, so small differences never reorder pools.
    """
    pools = tuple(failover)
    if len(set(pools)) != len(pools):
        raise ValueError(f"failover order names a pool twice: {pools}")
    if not pools or any(pool not in estimates for pool in pools):
        return pools
    rank = {pool: index for index, pool in enumerate(pools)}
    if current is None or sorted(current) != sorted(pools):
        return tuple(sorted(pools, key=lambda pool: (estimates[pool].rtt_ms, rank[pool])))
    result = list(current)
    swapped = True
    while swapped:
        swapped = False
        for index in range(len(result) - 1):
            ahead, behind = result[index], result[index + 1]
            if band.beats(estimates[behind].rtt_ms, estimates[ahead].rtt_ms):
                result[index], result[index + 1] = behind, ahead
                swapped = True
    return tuple(result)


def sample(servers: Mapping[str, CheckRow]) -> dict[str, float]:
    """RTT samples from one backend's ``show stat`` rows: servers whose last check passed.

    A failed check's duration is its timeout, not an RTT, and a down pool is out of
    rotation anyway, so it contributes nothing. The caller polls once per monitor
    interval, so each poll sees about one new check.
    """
    return {
        name: float(row.check_duration_ms)
        for name, row in servers.items()
        if row.check_passed and row.check_duration_ms is not None
    }
