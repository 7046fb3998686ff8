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

from taxiway.client import config
from taxiway.errors import ConfigurationError


def read(token_file: Path | None, environ: Mapping[str, str] | None = None) -> str:
    """The bearer token: from ``token_file`` if given (checked as the CLI checks its
    ``--token-file``: :func:`taxiway.client.config.read_token_file`), else ``$TAXIWAY_TOKEN``."""
    environ = os.environ if environ is None else environ
    if token_file is not None:
        return config.read_token_file(token_file, "--token-file")
    token = environ.get(config.TOKEN_ENV, "").strip()
    if not token:
        raise ConfigurationError(f"no token: pass --token-file PATH or set {config.TOKEN_ENV}")
    return token
