"""The runtime layer: how a satellite runs, observes and supervises instances.

I/O code over :mod:`taxiway.spec` and :mod:`taxiway.plan`, below the CLI and the satellite.
:mod:`~taxiway.runtime.driver` is the one interface every runtime implements (``local``
today, ``kubernetes`` later) and :mod:`~taxiway.runtime.fake` its in-memory stand-in;
:mod:`~taxiway.runtime.local` runs instances as OS processes. Drivers speak in the value
types of :mod:`taxiway.plan.region.instance_spec`. The decisions (probe thresholds in
:mod:`taxiway.plan.region.health`, restart backoff in :mod:`taxiway.plan.region.supervision`)
are pure functions of data and a clock under :mod:`taxiway.plan`; the
:mod:`~taxiway.runtime.supervisor` is the thin loop that acts on them.
"""
