"""What the satellite and the edge share as long-running agents of the control plane.

Below :mod:`taxiway.satellite` and :mod:`taxiway.edge` (which never import each other),
above :mod:`taxiway.client` (the control plane's HTTP client these pieces call through):
the long poll (:mod:`~taxiway.agent.long_poll`), the status heartbeat
(:mod:`~taxiway.agent.status_reporter`), the newest snapshot between threads
(:mod:`~taxiway.agent.latest`), the threads themselves (:mod:`~taxiway.agent.thread_group`),
one agent per state directory (:mod:`~taxiway.agent.state_lock`), and the flags, token and
settings every agent starts from (:mod:`~taxiway.agent.agent_flags`,
:mod:`~taxiway.agent.agent_token`, :mod:`~taxiway.agent.settings`).
"""
