"""What this machine's operating system offers every Taxiway process: files replaced
atomically (:mod:`~taxiway.system.atomic_file`) and the small JSON files written that way
(:mod:`~taxiway.system.json_file`), loopback ports kept across restarts
(:mod:`~taxiway.system.ports`), and the part of the environment a child process may see
(:mod:`~taxiway.system.environment`).

Its own layer, directly below the adapters (:mod:`taxiway.runtime`, :mod:`taxiway.haproxy`,
...) and above the pure :mod:`taxiway.plan`: the runtime driver, HAProxy's process, the
agents and the dev world all need these, and the adapters may not import each other, so
the one home of each is below all of them. It imports nothing of Taxiway but
:mod:`taxiway.errors`.
"""
