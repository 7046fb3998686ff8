"""The edge PoP: ``taxiway edge --pop P`` runs one PoP's HAProxy in front of every region.

It pulls the PoP's global load-balancing config from the control plane, keeps it in a
local cache before acting on it, renders it to an edge HAProxy config (one backend per
service, one server per region pool, in steering order), steers ``dynamic_latency``
services by the RTT this PoP measures through its own health checks, and reports what
it sees. Python is never in the request path: HAProxy serves, and keeps serving the last
known config when the control plane, or the edge process itself, is gone.

Pure parts (no I/O, clock passed in): :mod:`~taxiway.plan.edge.popconfig` (the wire model and
how a new answer meets the cached one), :mod:`~taxiway.edge.translate` (config → HAProxy
model), :mod:`~taxiway.plan.edge.steering` (pool order from samples) and
:mod:`~taxiway.plan.edge.status_report` (status from ``show stat``). I/O parts:
:mod:`~taxiway.edge.cache`, :mod:`~taxiway.edge.listeners`, :mod:`~taxiway.edge.puller`,
:mod:`~taxiway.edge.controller`, :mod:`~taxiway.edge.status_sender`, wired by
:mod:`~taxiway.edge.app`.
"""
