"""A small loopback HTTP listener that serves one registry at ``/metrics``, for processes
that have no HTTP server of their own (the edge: :mod:`taxiway.edge.app`).

It is ``prometheus_client``'s own WSGI server, in a daemon thread: it answers the text
format (or OpenMetrics, to a scraper that asks for it), gzip when asked, and ``HEAD``.
The address comes from the process's settings, loopback by default; a port that cannot
be bound is a :class:`~taxiway.errors.ConfigurationError` naming the flag.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import registry as prometheus_registry

from taxiway.errors import ConfigurationError


class MetricsListener:
    def __init__(
        self, host: str, port: int, registry: prometheus_registry.CollectorRegistry, flag: str
    ) -> None:
        self.host = host
        try:
            server, thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            raise ConfigurationError(f"{flag} {host}:{port}: cannot listen there ({exc.strerror})") from exc
        self._server: WSGIServer = server
        self._thread: threading.Thread = thread
        self.port = int(server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
