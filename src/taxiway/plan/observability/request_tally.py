"""The request log sink's counts: requests by label set, and one latency histogram per
service, environment and revision.

Pure and single-threaded; the sink (:mod:`taxiway.observability.request_log_sink`) holds
it behind a lock, adds every :class:`~taxiway.plan.observability.request_log.Record` it
reads and copies it out at each scrape. Bucket bounds are per service
(:func:`taxiway.plan.observability.names.buckets_for` of its latency SLO thresholds, so
each threshold is a bound exactly). When a service's bounds change its histograms start
again from zero: a bucket added later cannot know how many earlier requests it held, and
Prometheus's ``rate()`` reads a restart from zero as a counter reset, which it handles.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from taxiway.plan.observability import names
from taxiway.plan.observability.request_log import Record

RequestKey = tuple[str, str, str, str]
"""(service, environment, revision, code_class)."""
SeriesKey = tuple[str, str, str]
"""(service, environment, revision)."""
COUNTED_CLASSES = ("2xx", "3xx", "4xx", "5xx")
"""The classes every revision's counter has from its first request on."""


@dataclass
class Histogram:
    bounds: tuple[float, ...]
    buckets: list[int]
    """Per bound, then one for +Inf: requests in that bucket only (not cumulative)."""
    sum: float = 0.0
    count: int = 0

    @classmethod
    def empty(cls, bounds: tuple[float, ...]) -> Histogram:
        return cls(bounds, [0] * (len(bounds) + 1))

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, requests at or below it), ending with (+Inf, count)."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self.buckets, strict=True):
            running += n
            out.append((bound, running))
        return out


@dataclass
class Tally:
    thresholds: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Service -> its latency SLO thresholds in seconds (a service not here: none)."""
    requests: dict[RequestKey, int] = field(default_factory=dict)
    histograms: dict[SeriesKey, Histogram] = field(default_factory=dict)
    _bounds: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def bounds(self, service: str) -> tuple[float, ...]:
        found = self._bounds.get(service)
        if found is None:
            found = self._bounds[service] = names.buckets_for(self.thresholds.get(service, ()))
        return found

    def set_thresholds(self, thresholds: Mapping[str, tuple[float, ...]]) -> None:
        """New thresholds; the histograms of services whose bounds change start again."""
        before = {service: self.bounds(service) for service in {key[0] for key in self.histograms}}
        self.thresholds = dict(thresholds)
        self._bounds.clear()
        changed = {service for service, bounds in before.items() if self.bounds(service) != bounds}
        for key in [key for key in self.histograms if key[0] in changed]:
            del self.histograms[key]

    def expect(self, service: str, environment: str, revision: str) -> None:
        """A revision about to take requests: its counters and histogram exist at 0 now."""
        series = (service, environment, revision)
        if series not in self.histograms:
            self.histograms[series] = Histogram.empty(self.bounds(service))
            for code_class in COUNTED_CLASSES:
                self.requests.setdefault((*series, code_class), 0)

    def add(self, record: Record) -> None:
        series = (record.service, record.environment, record.revision)
        histogram = self.histograms.get(series)
        if histogram is None:
            histogram = self.histograms[series] = Histogram.empty(self.bounds(record.service))
            # Every class of the new revision exists from its first request, at 0: a counter
            # that appears already at 60 (a burst of errors between two scrapes) is, to
            # Prometheus's rate(), a counter that never grew, and no SLI would see them.
            for code_class in COUNTED_CLASSES:
                self.requests.setdefault((*series, code_class), 0)
        key = (record.service, record.environment, record.revision, record.code_class)
        self.requests[key] = self.requests.get(key, 0) + 1
        # bisect_left: a request of exactly a bound's duration is in that bound's bucket (le).
        histogram.buckets[bisect.bisect_left(histogram.bounds, record.seconds)] += 1
        histogram.sum += record.seconds
        histogram.count += 1

    def copy(self) -> Tally:
        """A snapshot to expose without holding the sink's lock."""
        return Tally(
            dict(self.thresholds),
            dict(self.requests),
            {k: Histogram(h.bounds, list(h.buckets), h.sum, h.count) for k, h in self.histograms.items()},
        )
