"""Alertmanager's configuration: every alert to the control plane's webhook. Pure.

What ``alertmanager.yml`` says (Alertmanager 0.25): one route, grouped by
:data:`GROUP_BY` (so one notification is one service's alert in one environment and region
at one severity, and a region's page never waits behind another's), to one webhook
receiver, ``<control plane>/v1/alerts``, with ``send_resolved`` (the control plane
resolves its rows from those notifications). The receiver authenticates with a token of
scope ``alerts`` that Alertmanager reads from ``credentials_file``: the token is never in
the configuration, so the file can be shown, checked and kept without hiding anything.

:class:`Timing` holds the route's waits: :data:`DEFAULT_TIMING` is Alertmanager's own
(30 s group wait, 5 min group interval, 4 h repeat), :data:`DEV_TIMING` the dev world's,
short enough that an alert reaches ``taxiway status`` within seconds. The dev world and
``taxiway observability config`` write what :func:`render` answers; a test runs
``amtool check-config`` on it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ruamel.yaml import YAML

from taxiway.plan.observability import names

GROUP_BY = (names.SERVICE, names.ENVIRONMENT, names.REGION, "alertname", names.SEVERITY)
RECEIVER = "taxiway-control-plane"
WEBHOOK_PATH = "/v1/alerts"
MAX_ALERTS = 100
"""Alerts in one notification at most (Alertmanager counts the rest as ``truncatedAlerts``);
the control plane takes up to 1000 (:data:`taxiway.wire.alerts.MAX_ALERTS`)."""


@dataclass(frozen=True)
class Timing:
    """The route's waits, in seconds (Alertmanager's ``group_wait``, ``group_interval``,
    ``repeat_interval``)."""

    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0

    def __post_init__(self) -> None:
        for name in ("group_wait", "group_interval", "repeat_interval"):
            value = getattr(self, name)
            if not value > 0 or value != value or value == float("inf"):
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")


DEFAULT_TIMING = Timing()
DEV_TIMING = Timing(group_wait=1.0, group_interval=5.0, repeat_interval=3600.0)


def duration(seconds: float) -> str:
    """A duration as Alertmanager reads one (``1s``, ``500ms``, ``5m``, ``4h``)."""
    millis = round(seconds * 1000)
    if millis <= 0:
        raise ValueError(f"a duration must be at least 1ms, not {seconds!r}s")
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def webhook_url(control_plane: str) -> str:
    """The control plane's ``/v1/alerts`` at ``control_plane`` (``http://127.0.0.1:7070``)."""
    base = control_plane.strip().rstrip("/")
    if not base.startswith(("http://", "https://")) or base in ("http:/", "https:/"):
        raise ValueError(f"the control plane's URL must be http:// or https://, not {control_plane!r}")
    return base + WEBHOOK_PATH


def document(control_plane: str, token_file: str, timing: Timing = DEFAULT_TIMING) -> dict[str, object]:
    """The configuration as data: the control plane's URL, and the path of the file that
    holds the ``alerts`` token (absolute: Alertmanager resolves it from its config's directory)."""
    if not token_file.strip():
        raise ValueError("the token file's path is empty")
    return {
        "route": {
            "receiver": RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": duration(timing.group_wait),
            "group_interval": duration(timing.group_interval),
            "repeat_interval": duration(timing.repeat_interval),
        },
        "receivers": [
            {
                "name": RECEIVER,
                "webhook_configs": [
                    {
                        "url": webhook_url(control_plane),
                        "send_resolved": True,
                        "max_alerts": MAX_ALERTS,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials_file": token_file},
                        },
                    }
                ],
            }
        ],
    }


def render(control_plane: str, token_file: str, timing: Timing = DEFAULT_TIMING) -> str:
    """``alertmanager.yml``, as text (see :func:`document`)."""
    header = "# Written by Taxiway: every alert goes to the control plane's /v1/alerts.\n"
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold a URL or a path
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    text = io.StringIO()
    yaml.dump(document(control_plane, token_file, timing), text)
    return header + text.getvalue()
