"""What an edge PoP decides: the order of a service's pools. Pure.

* :mod:`~taxiway.plan.edge.steering` — one tick of steering for one service.
* :mod:`~taxiway.plan.edge.rtt` — RTT estimates from check durations, and the order they give.

The executor is :mod:`taxiway.edge.controller`, which reads HAProxy and reloads it.
"""
