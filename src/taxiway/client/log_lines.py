"""Instance log lines as ``taxiway logs`` shows them: parsed, timed, and checks left out.

A satellite answers lines ``INSTANCE | STAMP TEXT`` (docs/protocol.md); :func:`parse`
takes one apart and :meth:`LogLine.render` prints it as ``STAMP REGION/INSTANCE | TEXT``,
naming the instance with its region because instance ids repeat across regions.

Health checks and monitors fill an access log with noise: a probe every few seconds per
instance, the ingress's checks, each PoP's monitor. :func:`is_check` is true for a line
that names one of Taxiway's checkers (``Taxiway-check``, ``taxiway-probe``: apps that log
user agents) or that logs an HTTP request for one of the service's check paths (the
probe paths and the edge monitor's path of what runs now): ``"GET /health HTTP/1.1"``, as
the standard library, gunicorn and uvicorn all write it. A real user's request for such a
path is hidden too; ``taxiway logs --all`` shows everything.

:func:`since` turns ``--since`` (a duration back from now, or an RFC 3339 time) into the
moment the satellite filters on.
"""

from __future__ import annotations

import collections
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from taxiway.plan.regional import RegionalDefinition
from taxiway.runtime import logfile
from taxiway.spec import units

CHECK_AGENTS = ("taxiway-check", "taxiway-probe")
"""User agents of Taxiway's own checks (matched case-insensitively)."""
_REQUEST = re.compile(r"\b(?:GET|HEAD|OPTIONS) (/[^\s?\"]*)(?:\?\S*)? HTTP/\d")


@dataclass(frozen=True)
class LogLine:
    region: str
    instance: str
    stamp: str | None
    """When the line was written; ``None`` for lines from before stamping (or any driver without it)."""
    text: str

    def render(self) -> str:
        return f"{self.stamp or '-'} {self.region}/{self.instance} | {self.text}"


def parse(region: str, raw: str) -> LogLine:
    instance, separator, rest = raw.partition(" | ")
    if not separator:
        return LogLine(region, "-", None, raw)
    stamp, text = logfile.split_stamp(rest)
    return LogLine(region, instance, stamp, text)


def last_per_instance(lines: Iterable[LogLine], count: int) -> list[LogLine]:
    """The last ``count`` lines of each instance, instances in the order they first appear.

    With checks left out, ``taxiway logs`` asks a satellite for more than ``--tail`` lines
    and keeps this many of those shown, so ``--tail 100`` shows 100 lines of the app's own.
    """
    kept: dict[str, collections.deque[LogLine]] = {}
    for line in lines:
        kept.setdefault(line.instance, collections.deque(maxlen=count)).append(line)
    return [line for deque in kept.values() for line in deque] if count > 0 else []


def check_paths(definitions: Iterable[RegionalDefinition]) -> frozenset[str]:
    """Every path Taxiway checks the service on: HTTP probes, and the edge monitor's."""
    paths: set[str] = set()
    for definition in definitions:
        spec = definition.spec
        probes = spec.probes
        paths.update(
            p.path for p in (probes.startup, probes.readiness, probes.liveness) if p.protocol == "http"
        )
        edge = spec.load_balancing.global_
        if edge.enabled and edge.monitor.protocol in ("http", "https"):
            paths.add(edge.monitor.path)
    return frozenset(paths)


def is_check(text: str, paths: frozenset[str]) -> bool:
    lowered = text.lower()
    if any(agent in lowered for agent in CHECK_AGENTS):
        return True
    return any(found.group(1) in paths for found in _REQUEST.finditer(text))


def since(value: str, now: datetime.datetime) -> datetime.datetime:
    """``5m``, ``90s``, ``2h`` back from ``now``, or an RFC 3339 time; ``ValueError`` otherwise."""
    try:
        return now - datetime.timedelta(seconds=units.parse_duration(value))
    except ValueError:
        pass
    try:
        return units.parse_time(value)
    except ValueError:
        raise ValueError(
            "expected a duration back from now (30s, 5m, 2h) or an RFC 3339 time such as 2026-12-01T09:10:00Z"
        ) from None
