"""Instance logs, read from each region's satellite over its own API.

``taxiway logs`` calls :func:`stream` once per region (the satellite's URL comes from
``GET /v1/regions``) and, with ``--follow``, :func:`merge` to interleave the regions'
streams as lines arrive. The satellite answers ``text/plain`` lines ``INSTANCE | STAMP LINE``
(:mod:`taxiway.client.log_lines` reads them)
and checks the same bearer token the control plane accepts (docs/protocol.md).
"""

from __future__ import annotations

import datetime
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from taxiway.client.http import Unreachable, error_for, translated
from taxiway.errors import TaxiwayError

CONNECT_SECONDS = 5.0
# Without --follow a satellite answers at once; with it, silence between lines is normal.
READ_SECONDS = 30.0


def stream(
    api: str,
    token: str,
    service: str,
    environment: str,
    *,
    tail: int,
    instance: str | None = None,
    follow: bool = False,
    since: datetime.datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[str]:
    """The lines a satellite answers, as they arrive; its errors as :class:`TaxiwayError`."""
    path = f"/v1/logs/{service}/{environment}"
    what = f"GET {api.rstrip('/')}{path}"
    params: dict[str, Any] = {"tail": tail}
    if instance:
        params["instance"] = instance
    if since is not None:
        params["since"] = since.astimezone(datetime.UTC).isoformat()
    if follow:
        params["follow"] = "true"
    timeout = httpx.Timeout(CONNECT_SECONDS, read=None if follow else READ_SECONDS)
    with (
        httpx.Client(
            base_url=api.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "taxiway"},
            timeout=timeout,
            trust_env=False,
            transport=transport,
        ) as client,
        translated(what, "the satellite"),
        client.stream("GET", path, params=params) as response,
    ):
        if response.status_code >= 500:
            raise Unreachable(f"{what}: the satellite answered {response.status_code}")
        if not response.is_success:
            response.read()
            raise error_for(response, what)
        yield from response.iter_lines()


@dataclass(frozen=True)
class Event:
    """A line from a region, or the error that ended its stream."""

    region: str
    line: str | None = None
    error: TaxiwayError | None = None


_DONE = object()


def merge(streams: Mapping[str, Callable[[], Iterator[str]]]) -> Iterator[Event]:
    """Every region's lines as they arrive, each region read on its own thread.

    Ends when every stream has ended; the threads are daemons, so an interrupted reader
    (Ctrl-C) does not keep the process alive.
    """
    events: queue.Queue[Event | object] = queue.Queue()

    def pump(region: str, open_stream: Callable[[], Iterator[str]]) -> None:
        try:
            for line in open_stream():
                events.put(Event(region, line=line))
        except TaxiwayError as exc:
            events.put(Event(region, error=exc))
        finally:
            events.put(_DONE)

    for region, open_stream in streams.items():
        threading.Thread(target=pump, args=(region, open_stream), name=f"logs-{region}", daemon=True).start()
    running = len(streams)
    while running:
        event = events.get()
        if event is _DONE:
            running -= 1
        elif isinstance(event, Event):
            yield event
