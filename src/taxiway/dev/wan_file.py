"""Keeping ``DIR/wan.json`` in step with the ingress addresses the control plane knows.

Called by the dev supervisor on a period (:class:`WanFile.refresh`): it asks the
control plane's ``GET /v1/regions`` for each region's ``ingress``, keeps the last known
address of a region the answer says nothing about (nor a silent control plane: the links
stay up, as the edges keep routing), and rewrites the file only when the links change,
so the WAN emulator (:mod:`taxiway.dev.wan_process`) re-reads it only then.
"""

from __future__ import annotations

from taxiway.dev import layout as paths
from taxiway.dev import private_file, provisioning, readiness, wan
from taxiway.dev.settings import WorldSettings
from taxiway.errors import TaxiwayError
from taxiway.spec import platform


class WanFile:
    def __init__(self, settings: WorldSettings, layout: paths.Layout) -> None:
        self._settings = settings
        self._layout = layout
        self._topology = platform.load_topology(settings.topology)
        previous = wan.parse(private_file.read_json(layout.wan_file))
        self._ingress: dict[str, str | None] = {
            link.region: f"http://{link.target[0]}:{link.target[1]}" for link in previous if link.target
        }
        self._written: list[wan.Link] | None = None

    def refresh(self) -> bool:
        """Ask the control plane, then write the file if the links changed; answer if written."""
        try:
            probe = readiness.probe(
                self._settings.control_plane_url, provisioning.admin_token(self._layout), 1.0
            )
        except TaxiwayError:
            probe = readiness.Probe(control_plane=False)
        answer = {name: seen.ingress for name, seen in probe.regions.items()}
        self._ingress = wan.known_ingress(self._ingress, answer)
        links = wan.links(self._topology, self._settings.wan_ports, self._ingress, self._settings.wan_scale)
        if links == self._written:
            return False
        private_file.write_json(self._layout.wan_file, wan.document(links, self._settings.wan_scale))
        self._written = links
        return True
