"""The platform's files as the control plane holds them now, reloaded on change or on SIGHUP.

:class:`LivePlatform` holds the topology and the inventory file the API serves from.
:meth:`LivePlatform.reload` reads both files again; when both load, it syncs their
regions and services into the store and swaps them in, and when either does not, it
logs the located problems (``file:line:column``) and keeps the previous ones, so a bad
edit never takes the API down. :class:`Watcher` calls it from its own thread when a
file changes (polled by mtime, size and inode) or when poked (``taxiway server`` pokes it
on SIGHUP). :meth:`LivePlatform.inventory` is what uploads are checked against: the
store's services, which are the file's entries with the API's registrations layered on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydantic

from taxiway.errors import TaxiwayError, ValidationFailed
from taxiway.spec import platform
from taxiway.spec.inventory import Inventory, InventoryService
from taxiway.spec.topology import Topology
from taxiway.store import protocol, records

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""How often the watcher looks at the files' mtimes (a SIGHUP does not wait for it)."""
API_VERSION = "taxiway/v1"


def sync(store: protocol.Store, topology: Topology, inventory: Inventory, actor: str) -> list[str]:
    """Load a topology's regions and an inventory's services into the store; answers the
    services the API registered or changed, which the file does not override."""
    store.sync_regions(
        [
            records.Region(region.name, topology.continent_of[region.name], region.runtime.driver)
            for region in topology.regions.values()
        ],
        actor,
    )
    return store.sync_services(
        {s.name: s.model_dump(mode="json", by_alias=True) for s in inventory.services}, actor
    )


@dataclass(frozen=True)
class Reloaded:
    """What one reload did: ``changed`` when new files were swapped in, else ``error``."""

    changed: bool
    error: str | None = None
    kept_by_api: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"changed": self.changed, "error": self.error, "kept_by_api": list(self.kept_by_api)}


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class LivePlatform:
    """The topology and the inventory file, swapped as a pair when their files change."""

    def __init__(
        self,
        topology: Topology,
        inventory: Inventory,
        *,
        topology_path: Path | None = None,
        inventory_path: Path | None = None,
    ) -> None:
        self._pair = (topology, inventory)
        self.topology_path = topology_path
        self.inventory_path = inventory_path
        self._lock = threading.Lock()
        self._stamps = (_stamp(topology_path), _stamp(inventory_path))

    @property
    def topology(self) -> Topology:
        return self._pair[0]

    @property
    def file_inventory(self) -> Inventory:
        """The inventory file as last loaded (the seed)."""
        return self._pair[1]

    @property
    def inventory_file(self) -> str:
        """How to name the inventory file in a message."""
        return str(self.inventory_path) if self.inventory_path else "the control plane's inventory file"

    def inventory(self, store: protocol.Store) -> Inventory:
        """The inventory uploads are checked against: the file's services and the API's."""
        services = []
        registered: dict[str, str] = {}
        for row in store.services():
            if row.origin == "api":
                change = f"taxiway services update {row.name} --owner TEAM"
                registered[row.name] = f"the control plane's inventory (`{change}` changes them)"
            try:
                services.append(InventoryService.model_validate({"name": row.name, **row.entry}))
            except pydantic.ValidationError as exc:
                log.warning("inventory entry of %s is unusable, skipped: %s", row.name, exc)
        layered = Inventory.model_validate({"apiVersion": API_VERSION, "kind": "Inventory", "services": []})
        layered = layered.model_copy(update={"services": services})
        return layered.from_source(
            f"{self.inventory_file} (the control plane reloads it on change)", owners_at=registered
        )

    def changed_on_disk(self) -> bool:
        return (_stamp(self.topology_path), _stamp(self.inventory_path)) != self._stamps

    def reload(self, store: protocol.Store, actor: str) -> Reloaded:
        """Read both files again; swap them in only if both load (else keep the old pair)."""
        if self.topology_path is None or self.inventory_path is None:
            return Reloaded(False, "this control plane was given no platform files to reload")
        with self._lock:
            stamps = (_stamp(self.topology_path), _stamp(self.inventory_path))
            try:
                topology = platform.load_topology(self.topology_path)
                inventory = platform.load_inventory(self.inventory_path, topology)
                kept = sync(store, topology, inventory, actor)
            except ValidationFailed as exc:
                self._stamps = stamps  # do not retry the same bad bytes every poll
                lines = "; ".join(p.render() for p in exc.problems)
                log.error("reload refused, keeping the previous topology and inventory: %s", lines)
                return Reloaded(False, lines)
            except TaxiwayError as exc:
                if not exc.retryable:  # a database blip is retried at the next poll
                    self._stamps = stamps
                log.error("reload refused, keeping the previous topology and inventory: %s", exc)
                return Reloaded(False, str(exc))
            self._pair = (topology, inventory)
            self._stamps = stamps
        log.info(
            "reloaded %s (%d regions) and %s (%d services)",
            self.topology_path,
            len(topology.regions),
            self.inventory_path,
            len(inventory.services),
        )
        for name in kept:
            log.info("%s: the entry registered through the API wins over %s", name, self.inventory_path)
        return Reloaded(True, kept_by_api=tuple(kept))


class Watcher:
    """Reloads ``live`` when its files change or when :meth:`poke` is called (SIGHUP)."""

    def __init__(
        self, live: LivePlatform, reload: Callable[[], Reloaded], poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._live = live
        self._reload = reload
        self._poll = poll_seconds
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="platform-files", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Reload now (safe to call from a signal handler: it only sets an event)."""
        self._poked.set()

    def stop(self) -> None:
        self._stop.set()
        self._poked.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            poked = self._poked.wait(self._poll)
            self._poked.clear()
            if self._stop.is_set():
                return
            if poked or self._live.changed_on_disk():
                try:
                    self._reload()
                except Exception:  # the watcher must outlive any one reload (a database blip)
                    log.exception("reload failed; the previous topology and inventory stay")
