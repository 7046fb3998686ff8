"""Where the platform's topology and inventory come from, for commands that need them.

Order: the ``--topology`` / ``--inventory`` flag, then ``TAXIWAY_TOPOLOGY`` /
``TAXIWAY_INVENTORY``, then the platform config file (``$TAXIWAY_CONFIG``, else
``~/.config/taxiway/config.yaml``) with ``topology:`` and ``inventory:`` keys, paths
relative to that file. Without an inventory every region of the topology is allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from taxiway.errors import ConfigurationError
from taxiway.spec import platform, service_files
from taxiway.spec.inventory import Inventory
from taxiway.spec.topology import Topology


def config_path() -> Path:
    explicit = os.environ.get("TAXIWAY_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "taxiway" / "config.yaml"


def _from_config(key: str) -> Path | None:
    path = config_path()
    if not path.is_file():
        return None
    data = service_files.read(path).data
    if not isinstance(data, dict) or not data.get(key):
        return None
    value = data[key]
    if not isinstance(value, str):
        raise ConfigurationError(f"{path}: {key} must be a file path")
    return (path.parent / value).resolve()


def resolve(flag: Path | None, env_var: str, key: str) -> Path | None:
    if flag is not None:
        return flag
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    return _from_config(key)


@dataclass(frozen=True)
class PlatformFiles:
    topology: Topology | None
    inventory: Inventory | None

    def require_topology(self) -> Topology:
        if self.topology is None:
            raise ConfigurationError(
                "no topology: pass --topology FILE, set TAXIWAY_TOPOLOGY, "
                f"or add 'topology: FILE' to {config_path()}"
            )
        return self.topology


def load(topology_flag: Path | None, inventory_flag: Path | None) -> PlatformFiles:
    topology_path = resolve(topology_flag, "TAXIWAY_TOPOLOGY", "topology")
    inventory_path = resolve(inventory_flag, "TAXIWAY_INVENTORY", "inventory")
    topology = platform.load_topology(topology_path) if topology_path else None
    inventory = platform.load_inventory(inventory_path, topology) if inventory_path else None
    return PlatformFiles(topology, inventory)
