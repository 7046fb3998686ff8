"""Where the control plane is, which token to present, and where the dev world keeps its state.

Called by every CLI command that talks to the control plane, by the platform-file lookup
(topology and inventory of the dev world) and by the dev world itself
(:func:`default_dev_dir`). The first source that names a control plane wins:

1. ``--url`` / ``--token-file`` on the command line;
2. ``TAXIWAY_URL`` with ``TAXIWAY_TOKEN`` (or ``TAXIWAY_TOKEN_FILE``);
3. the platform config file (:func:`config_path`): ``control_plane: URL`` and
   ``token_file: PATH``, the path relative to the file;
4. the dev world's ``dev.json`` (written by ``taxiway dev up``) in :func:`default_dev_dir`.

The token is looked up in the same order, but the dev world's admin token is only ever
sent to the dev world's own control plane. A token never appears in a message or a repr.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from taxiway.errors import ConfigurationError
from taxiway.spec import service_files

DEV_FILE = "dev.json"
TOKEN_ENV = "TAXIWAY_TOKEN"


def config_path() -> Path:
    """The platform config file: ``$TAXIWAY_CONFIG``, else ``$XDG_CONFIG_HOME/taxiway/config.yaml``."""
    explicit = os.environ.get("TAXIWAY_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "taxiway" / "config.yaml"


def default_dev_dir() -> Path:
    """Where ``taxiway dev up`` keeps its state: ``$TAXIWAY_DEV_DIR``, else the XDG state dir."""
    explicit = os.environ.get("TAXIWAY_DEV_DIR")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "taxiway" / "dev"


@dataclass(frozen=True)
class DevWorld:
    """What ``dev.json`` says about the running dev world."""

    path: Path
    control_plane: str | None
    token: str | None = field(repr=False)
    topology: Path | None
    inventory: Path | None
    prometheus: Mapping[str, str] = field(default_factory=dict)
    """Each region's Prometheus URL, and the global one's under ``global``."""


def _prometheus(data: Mapping[str, Any]) -> dict[str, str]:
    found = {}
    for region, entry in (data.get("regions") or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("prometheus"), str):
            found[str(region)] = entry["prometheus"]
    central = data.get("prometheus")
    if isinstance(central, dict) and isinstance(central.get("global"), str):
        found["global"] = central["global"]
    return found


def _relative_path(base: Path, value: Any, key: str, source: Path) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{source}: {key} must be a file path")
    return (base / value).resolve()


def _text(value: Any, key: str, source: Path) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{source}: {key} must be text")
    return value


def dev_world(directory: Path | None = None) -> DevWorld | None:
    """The dev world's ``dev.json``, or None when no dev world was started there."""
    path = (directory or default_dev_dir()) / DEV_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"{path}: cannot read the dev world's state ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a JSON object")
    return DevWorld(
        path=path,
        control_plane=_text(data.get("control_plane"), "control_plane", path),
        token=_text(data.get("token"), "token", path),
        topology=_relative_path(path.parent, data.get("topology"), "topology", path),
        inventory=_relative_path(path.parent, data.get("inventory"), "inventory", path),
        prometheus=_prometheus(data),
    )


def platform_config() -> Mapping[str, Any]:
    """The platform config file's keys; empty when there is no file."""
    path = config_path()
    if not path.is_file():
        return {}
    data = service_files.read(path).data  # a YAML mistake is a located problem, like any file's
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a mapping of settings")
    return data


def config_file_path(key: str) -> Path | None:
    """A path setting of the platform config file, relative to that file."""
    path = config_path()
    return _relative_path(path.parent, platform_config().get(key), key, path)


@dataclass(frozen=True)
class Connection:
    """A control plane to call and the token to call it with."""

    url: str
    token: str = field(repr=False)
    source: str
    """Where the URL came from, so a "cannot reach" message can say which setting to fix."""


def read_token_file(path: Path, source: str) -> str:
    """The token in ``path`` (stripped); ``source`` names the setting that pointed there.
    The one check of a token file, for the CLI and the agents (:mod:`taxiway.agent.agent_token`)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise ConfigurationError(f"cannot read the token file {path} (from {source}): {reason}") from exc
    if not token:
        raise ConfigurationError(f"the token file {path} (from {source}) is empty")
    return token


def checked_url(url: str, source: str) -> str:
    """The control plane's base URL without a trailing ``/``: ``http(s)://HOST[:PORT][/PATH]``,
    no query or fragment. The one check of it, for the CLI and the agents
    (:mod:`taxiway.agent.agent_flags`); the message names ``source``, never the URL (it may
    carry a password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(
            f"the control plane URL from {source} is not an http(s) URL: "
            "expected a URL such as http://127.0.0.1:7700"
        )
    return url.rstrip("/")


def _find_url(url_flag: str | None, world: DevWorld | None) -> tuple[str, str] | None:
    if url_flag:
        return url_flag, "--url"
    if os.environ.get("TAXIWAY_URL"):
        return os.environ["TAXIWAY_URL"], "TAXIWAY_URL"
    configured = _text(platform_config().get("control_plane"), "control_plane", config_path())
    if configured:
        return configured, str(config_path())
    if world is not None and world.control_plane:
        return world.control_plane, f"the dev world ({world.path})"
    return None


def _find_token(token_file_flag: Path | None, url: str, world: DevWorld | None) -> str | None:
    if token_file_flag is not None:
        return read_token_file(token_file_flag, "--token-file")
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV].strip()
    if os.environ.get("TAXIWAY_TOKEN_FILE"):
        return read_token_file(Path(os.environ["TAXIWAY_TOKEN_FILE"]), "TAXIWAY_TOKEN_FILE")
    configured = config_file_path("token_file")
    if configured is not None:
        return read_token_file(configured, str(config_path()))
    # The dev world's admin token is for the dev world's control plane and nothing else.
    if world is not None and world.token and world.control_plane and world.control_plane.rstrip("/") == url:
        return world.token
    return None


def resolve(url_flag: str | None = None, token_file_flag: Path | None = None) -> Connection:
    """The control plane to call, or a :class:`ConfigurationError` saying what to set."""
    world = dev_world()
    found = _find_url(url_flag, world)
    if found is None:
        raise ConfigurationError(
            "no control plane configured: pass --url URL, set TAXIWAY_URL, "
            f"add 'control_plane: URL' to {config_path()}, or run `taxiway dev up`"
        )
    url = checked_url(*found)
    token = _find_token(token_file_flag, url, world)
    if token is None:
        raise ConfigurationError(
            f"no token for the control plane at {url}: pass --token-file FILE, set TAXIWAY_TOKEN "
            f"or TAXIWAY_TOKEN_FILE, or add 'token_file: FILE' to {config_path()}"
        )
    return Connection(url=url, token=token, source=found[1])
