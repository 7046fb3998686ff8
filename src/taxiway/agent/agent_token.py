"""The bearer token a long-running agent (a satellite, an edge) presents to the control plane.

Called by ``taxiway satellite`` and ``taxiway edge`` when they build their settings. The
token comes from a file or ``$TAXIWAY_TOKEN``, never from the command line: argv is
visible to every user of the machine. The remote CLI commands look further (the platform
config, the dev world); see :mod:`taxiway.client.config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from taxiway.errors import ConfigurationError

TOKEN_ENV = "TAXIWAY_TOKEN"


def read(token_file: Path | None, environ: Mapping[str, str] | None = None) -> str:
    """The bearer token: from ``token_file`` if given, else ``$TAXIWAY_TOKEN``."""
    environ = os.environ if environ is None else environ
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
            raise ConfigurationError(f"{token_file}: cannot read the token file ({reason})") from exc
        if not token:
            raise ConfigurationError(f"{token_file}: the token file is empty")
        return token
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigurationError(f"no token: pass --token-file PATH or set {TOKEN_ENV}")
    return token
