"""What an edge PoP decides: the order of a service's pools, and what it reports. Pure.

* :mod:`~taxiway.plan.edge.popconfig` — a PoP config, checked, and how a new answer meets the cached one.
* :mod:`~taxiway.plan.edge.steering` — one tick of steering for one service.
* :mod:`~taxiway.plan.edge.rtt` — RTT estimates from check durations, and the order they give.
* :mod:`~taxiway.plan.edge.status_report` — the PoP's status from ``show stat``.

The executor is :mod:`taxiway.edge.controller`, which reads HAProxy and reloads it.
"""
