"""Where the platform's topology and inventory come from, for commands that need them.

Order: the ``--topology`` / ``--inventory`` flag, then ``TAXIWAY_TOPOLOGY`` /
``TAXIWAY_INVENTORY``, then the platform config file (``$TAXIWAY_CONFIG``, else
``~/.config/taxiway/config.yaml``) with ``topology:`` and ``inventory:`` keys, paths
relative to that file, then the running dev world's files (``dev.json``, written by
``taxiway dev up``). Without an inventory every region of the topology is allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from taxiway.client import config
from taxiway.errors import ConfigurationError
from taxiway.spec import platform
from taxiway.spec.inventory import Inventory
from taxiway.spec.topology import Topology


def config_path() -> Path:
    return config.config_path()


def _from_dev_world(key: str) -> Path | None:
    world = config.dev_world()
    if world is None:
        return None
    return world.topology if key == "topology" else world.inventory if key == "inventory" else None


def resolve(flag: Path | None, env_var: str, key: str) -> Path | None:
    if flag is not None:
        return flag
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    return config.config_file_path(key) or _from_dev_world(key)


@dataclass(frozen=True)
class PlatformFiles:
    topology: Topology | None
    inventory: Inventory | None

    def require_topology(self) -> Topology:
        if self.topology is None:
            raise ConfigurationError(
                "no topology: pass --topology FILE, set TAXIWAY_TOPOLOGY, "
                f"add 'topology: FILE' to {config_path()}, or run `taxiway dev up`"
            )
        return self.topology


def load(topology_flag: Path | None, inventory_flag: Path | None) -> PlatformFiles:
    topology_path = resolve(topology_flag, "TAXIWAY_TOPOLOGY", "topology")
    inventory_path = resolve(inventory_flag, "TAXIWAY_INVENTORY", "inventory")
    topology = platform.load_topology(topology_path) if topology_path else None
    inventory = platform.load_inventory(inventory_path, topology) if inventory_path else None
    return PlatformFiles(topology, inventory)
