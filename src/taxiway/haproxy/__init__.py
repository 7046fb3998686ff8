"""HAProxy as Taxiway's data plane: config rendering, runtime API, process control.

Python is never in the request path: region ingresses (run by each satellite) and edge
PoPs (run by ``taxiway edge``) are HAProxy 2.6 processes, and this package is how Taxiway
describes, starts, changes and reads them. An I/O adapter layer beside ``runtime`` and
``store``: it imports only :mod:`taxiway.errors`, :mod:`taxiway.spec` and the standard
library.

* :mod:`~taxiway.plan.haproxy.config` — what to serve (ingress or edge) as data, rendered to
  config text; pure. :mod:`~taxiway.plan.haproxy.tokens` keeps every value inert in it.
* :mod:`~taxiway.haproxy.runtime_api` — the runtime API over the stats socket, typed;
  :mod:`~taxiway.plan.haproxy.answers` parses what it returns (pure).
* :mod:`~taxiway.haproxy.membership` — instances in and out of an ingress backend with
  drain, planned purely and applied through the runtime API.
* :mod:`~taxiway.haproxy.process` — check, start, hitless reload (keeping server state)
  and stop of a master-worker HAProxy under a :mod:`~taxiway.haproxy.layout`.

The ``dynamic_latency`` pool order from measured check durations is a decision, not I/O:
:mod:`taxiway.plan.edge.rtt`.
"""
