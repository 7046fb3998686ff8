"""The region ingress's servers counted per service, environment and revision. Pure.

The satellite's ``/metrics`` (:mod:`taxiway.observability.satellite_metrics`) exposes
:data:`~taxiway.plan.observability.names.INGRESS_IN_FLIGHT` and
:data:`~taxiway.plan.observability.names.INGRESS_IN_ROTATION` from what the rotation gate
last read of HAProxy (``show stat``: one backend per service, one server per instance).
An ingress backend serves its service's production environment only
(:data:`taxiway.plan.region.rotation.ENVIRONMENT`); the revision is read back from the
server's name, which is the instance id
(:func:`taxiway.plan.region.reconcile.instance_id`:
``<service>-<environment>-r<revision>[s<digest>]-<index>``). A server whose name does not
have that shape (added by hand) counts under revision ``none``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taxiway.plan.observability import names
from taxiway.plan.region import rotation

Labels = tuple[str, str, str]
"""(service, environment, revision)."""

_REVISION = re.compile(r"r([0-9]+)(?:s[0-9a-f]{8})?-[0-9]+")


@dataclass(frozen=True)
class Gauges:
    """One revision's servers at the ingress, now."""

    in_flight: int = 0
    """Requests at its servers (HAProxy's current sessions, ``scur``)."""
    in_rotation: int = 0
    """Its servers taking new requests: admitted, up, and their last check passed."""


def revision_of(server: str, service: str, environment: str) -> str:
    """The revision in an instance id, as label text; ``none`` for any other name."""
    prefix = f"{service}-{environment}-"
    if not server.startswith(prefix):
        return names.NO_REVISION
    found = _REVISION.fullmatch(server[len(prefix) :])
    return str(int(found.group(1))) if found else names.NO_REVISION


def count(backends: rotation.Backends) -> dict[Labels, Gauges]:
    """Per (service, environment, revision) with at least one server: its gauges."""
    result: dict[Labels, Gauges] = {}
    environment = rotation.ENVIRONMENT
    for service, servers in backends.items():
        for name, server in servers.items():
            labels = (service, environment, revision_of(name, service, environment))
            before = result.get(labels, Gauges())
            taking = server.admitted and server.up and server.checked
            result[labels] = Gauges(
                in_flight=before.in_flight + max(server.sessions, 0),
                in_rotation=before.in_rotation + int(taking),
            )
    return result
