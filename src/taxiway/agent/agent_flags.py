"""Flags every long-running agent (a satellite, an edge) takes: where the control plane is,
and where to listen. Checked once, when the agent builds its settings."""

from __future__ import annotations

from taxiway.client import config
from taxiway.errors import ConfigurationError


def control_plane_url(text: str) -> str:
    """The control plane's base URL, checked as the CLI checks ``--url``
    (:func:`taxiway.client.config.checked_url`)."""
    return config.checked_url(text, "--control-plane")


def parse_listen(text: str, flag: str = "--listen") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port)."""
    host, colon, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigurationError(f"{flag} {text!r}: expected HOST:PORT, such as 127.0.0.1:0")
    return host, int(port_text)
