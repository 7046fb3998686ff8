"""Flags every long-running agent (a satellite, an edge) takes: where the control plane is,
and where to listen. Checked once, when the agent builds its settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from taxiway.errors import ConfigurationError


def control_plane_url(text: str) -> str:
    """The control plane's base URL, checked: ``http://HOST:PORT`` or ``https://...``."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(f"--control-plane {text!r}: expected a URL such as http://127.0.0.1:7700")
    return text.rstrip("/")


def parse_listen(text: str, flag: str = "--listen") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port)."""
    host, colon, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigurationError(f"{flag} {text!r}: expected HOST:PORT, such as 127.0.0.1:0")
    return host, int(port_text)
