"""The development world: a control plane, one satellite per region, one edge per PoP.

Behind ``taxiway dev up|down|status`` (:mod:`taxiway.cli.dev_commands`). The server, the
satellites, the edges and the WAN emulator run as OS processes (``python -m
taxiway.cli.main server|satellite|edge|dev wan``), never as imports, kept alive by a
detached supervisor; instances and each region's ingress HAProxy belong to the
satellites, each PoP's HAProxy to its edge, and all of them outlive their owners until
``dev down``. Each edge reaches each region through the WAN emulator
(:mod:`~taxiway.dev.wan`, :mod:`~taxiway.dev.wan_process`, :mod:`~taxiway.dev.wan_file`),
which adds the topology's PoP-to-region delay on the wire: development only.

- :mod:`~taxiway.dev.bringup`, :mod:`~taxiway.dev.teardown`,
  :mod:`~taxiway.dev.status_report`: the three commands;
- :mod:`~taxiway.dev.supervisor`: the process that (re)starts the children, with
  :mod:`~taxiway.dev.children` (their command lines, as data) and
  :mod:`~taxiway.dev.provisioning` (``server init`` and satellite tokens);
- :mod:`~taxiway.dev.layout` (every path under the world's directory),
  :mod:`~taxiway.dev.settings` (what ``up`` chose), :mod:`~taxiway.dev.readiness`,
  :mod:`~taxiway.dev.instances`, :mod:`~taxiway.dev.ingresses`, :mod:`~taxiway.dev.edges`,
  :mod:`~taxiway.dev.processes` (stopping by pid *and* start time),
  :mod:`~taxiway.dev.pidlock`, :mod:`~taxiway.dev.launch`,
  :mod:`~taxiway.dev.private_file` (ports and atomic files: :mod:`taxiway.system`).
"""
