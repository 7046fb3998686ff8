"""What a region decides: pure deciders a satellite (and its runtime driver) acts on.

* :mod:`~taxiway.plan.region.reconcile` — which instances to run where, and which to stop.
* :mod:`~taxiway.plan.region.supervision` — when to restart a failed instance (backoff).
* :mod:`~taxiway.plan.region.health` — probe verdicts from probe results.
* :mod:`~taxiway.plan.region.instance_spec` — an instance as asked for and as observed.

No I/O and no clock of their own; the executors are :mod:`taxiway.satellite.executor`,
:mod:`taxiway.runtime.supervisor` and :mod:`taxiway.runtime.local`.
"""
