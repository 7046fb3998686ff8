"""Which Prometheus servers to ask: each region's and the global one, by name.

The first source that names any wins, as for the control plane (:mod:`taxiway.client.config`):

1. ``--prometheus NAME=URL`` on the command line, repeated (``NAME``: a region, or ``global``);
2. the platform config file's ``prometheus:`` mapping (``global: URL``, ``<region>: URL``);
3. the dev world's ``dev.json`` (``regions.<name>.prometheus``, ``prometheus.global``).
"""

from __future__ import annotations

from collections.abc import Sequence

from taxiway.client import config
from taxiway.errors import ConfigurationError


def parse(flags: Sequence[str]) -> dict[str, str]:
    found = {}
    for flag in flags:
        name, sep, url = flag.partition("=")
        if not sep or not name or not url:
            raise ConfigurationError(f"--prometheus {flag!r}: expected NAME=URL (NAME: a region, or global)")
        found[name] = config.checked_url(url, f"--prometheus {name}")
    return found


def resolve(flags: Sequence[str] = ()) -> dict[str, str]:
    if flags:
        return parse(flags)
    configured = config.platform_config().get("prometheus")
    if isinstance(configured, dict) and configured:
        return {
            str(k): config.checked_url(str(v), f"{config.config_path()}: prometheus.{k}")
            for k, v in configured.items()
        }
    world = config.dev_world()
    if world is not None and world.prometheus:
        return dict(world.prometheus)
    raise ConfigurationError(
        "no Prometheus configured: pass --prometheus REGION=URL (and global=URL), add a "
        f"'prometheus:' mapping to {config.config_path()}, or run `taxiway dev up`"
    )
