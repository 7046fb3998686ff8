"""Setting a dev world up once: the control plane's database and keys, and every token.

``dev up`` runs :func:`init_control_plane` on the first up only (``taxiway server init``
migrates the database, loads the platform files, creates the sealing key and an admin
token); the supervisor calls :func:`satellite_token` for each region and
:func:`edge_token` for each PoP that has no token file yet, as soon as the control plane
answers. Both leave 0600 files under the world's
directory that later ups reuse, so a world keeps its tokens across ``down`` and ``up``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from taxiway.client import http
from taxiway.dev import layout as paths
from taxiway.dev import private_file
from taxiway.dev.settings import WorldSettings
from taxiway.errors import ConfigurationError, ProtocolError

INIT_TIMEOUT_SECONDS = 120.0
CLIENT_ENV = ("TAXIWAY_URL", "TAXIWAY_TOKEN", "TAXIWAY_TOKEN_FILE")
"""A client's settings: a satellite must use its own token file, never an inherited token."""


def child_environment() -> dict[str, str]:
    """This process's environment minus what would point a child at another control plane."""
    env = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach DIR/logs as they happen
    return env


def init_control_plane(settings: WorldSettings, layout: paths.Layout) -> None:
    """Run ``taxiway server init`` for this world; raise with its output when it fails."""
    argv = [
        settings.python,
        "-m",
        "taxiway.cli.main",
        "server",
        "init",
        "--database",
        settings.database,
        "--topology",
        str(settings.topology),
        "--inventory",
        str(settings.inventory),
        "--key-file",
        str(layout.key_file),
        "--token-file",
        str(layout.admin_token_file),
    ]
    try:
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=INIT_TIMEOUT_SECONDS,
            check=False,
            env=child_environment(),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(f"taxiway server init could not run: {exc}") from exc
    with open(layout.log_file("server-init"), "a", encoding="utf-8") as log:
        log.write(result.stdout + result.stderr)
    if result.returncode != 0 or not layout.admin_token_file.is_file():
        output = (result.stderr or result.stdout).strip().splitlines()[-10:]
        raise ConfigurationError(
            f"taxiway server init failed (exit {result.returncode}):\n  " + "\n  ".join(output)
        )
    os.chmod(layout.admin_token_file, 0o600)


def admin_token(layout: paths.Layout) -> str:
    try:
        token = layout.admin_token_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{layout.admin_token_file} is missing: run `taxiway dev up`") from exc
    if not token:
        raise ConfigurationError(f"{layout.admin_token_file} is empty")
    return token


def _token(settings: WorldSettings, layout: paths.Layout, request: dict[str, str], path: Path) -> None:
    with http.ControlPlane(settings.control_plane_url, admin_token(layout), timeout=5.0) as api:
        answer = api.post("/v1/tokens", request)
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise ProtocolError("POST /v1/tokens answered no token")
    layout.tokens_dir.mkdir(mode=0o700, exist_ok=True)
    private_file.write_text(path, token + "\n")


def satellite_token(settings: WorldSettings, layout: paths.Layout, region: str) -> None:
    """Create region's satellite token through the control plane and write its token file.

    Raises :class:`taxiway.client.http.Unreachable` while the control plane is not up.
    """
    request = {"name": paths.satellite_name(region), "scope": "satellite", "region": region}
    _token(settings, layout, request, layout.token_file(region))


def edge_token(settings: WorldSettings, layout: paths.Layout, pop: str) -> None:
    """Create the PoP's edge token (scope ``edge``) and write its token file; as above."""
    request = {"name": paths.edge_name(pop), "scope": "edge", "pop": pop}
    _token(settings, layout, request, layout.edge_token_file(pop))


def scoped_token(settings: WorldSettings, layout: paths.Layout, scope: str, path: Path) -> None:
    """Create the world's token of ``scope`` (``metrics`` for the global Prometheus,
    ``alerts`` for Alertmanager) and write its token file; as above."""
    request = {"name": f"dev-{scope}", "scope": scope}
    _token(settings, layout, request, path)
