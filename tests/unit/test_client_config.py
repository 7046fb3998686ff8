"""Finding the control plane and its token: flags, then environment, then config file, then dev world."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taxiway.cli import platform_files
from taxiway.client import config
from taxiway.errors import ConfigurationError
from tests.conftest import EXAMPLES


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An empty world: no environment settings, no config file, no dev world."""
    for name in (
        "TAXIWAY_URL",
        "TAXIWAY_TOKEN",
        "TAXIWAY_TOKEN_FILE",
        "TAXIWAY_TOPOLOGY",
        "TAXIWAY_INVENTORY",
        "XDG_STATE_HOME",
        "XDG_CONFIG_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TAXIWAY_CONFIG", str(tmp_path / "etc" / "config.yaml"))
    monkeypatch.setenv("TAXIWAY_DEV_DIR", str(tmp_path / "dev"))
    (tmp_path / "etc").mkdir()
    (tmp_path / "dev").mkdir()
    return {"config": tmp_path / "etc" / "config.yaml", "dev": tmp_path / "dev", "tmp": tmp_path}


def write_dev_world(places: dict[str, Path], url: str = "http://127.0.0.1:7700", **extra: str) -> None:
    document = {"control_plane": url, "token": "twy_dev_admin", "regions": {}, **extra}
    (places["dev"] / "dev.json").write_text(json.dumps(document))


def token_file(places: dict[str, Path], name: str, token: str) -> Path:
    path = places["tmp"] / name
    path.write_text(token + "\n")
    return path


def test_nothing_configured_says_what_to_set(places: dict[str, Path]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        config.resolve()
    message = str(caught.value)
    for hint in ("--url", "TAXIWAY_URL", str(places["config"]), "taxiway dev up"):
        assert hint in message


def test_dev_world_is_the_last_resort(places: dict[str, Path]) -> None:
    write_dev_world(places)
    found = config.resolve()
    assert (found.url, found.token) == ("http://127.0.0.1:7700", "twy_dev_admin")
    assert "dev.json" in found.source


def test_config_file_beats_the_dev_world(places: dict[str, Path]) -> None:
    write_dev_world(places)
    token_file(places, "etc/ci.token", "twy_from_config")
    places["config"].write_text("control_plane: https://cp.example:7700/\ntoken_file: ci.token\n")
    found = config.resolve()
    assert (found.url, found.token, found.source) == (
        "https://cp.example:7700",
        "twy_from_config",
        str(places["config"]),
    )


def test_environment_beats_the_config_file(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    token_file(places, "etc/ci.token", "twy_from_config")
    places["config"].write_text("control_plane: https://cp.example:7700\ntoken_file: ci.token\n")
    monkeypatch.setenv("TAXIWAY_URL", "http://10.0.0.1:7700")
    monkeypatch.setenv("TAXIWAY_TOKEN", "twy_from_env")
    found = config.resolve()
    assert (found.url, found.token, found.source) == ("http://10.0.0.1:7700", "twy_from_env", "TAXIWAY_URL")
    monkeypatch.delenv("TAXIWAY_TOKEN")
    monkeypatch.setenv("TAXIWAY_TOKEN_FILE", str(token_file(places, "env.token", "twy_from_env_file")))
    assert config.resolve().token == "twy_from_env_file"


def test_flags_beat_everything(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    write_dev_world(places)
    monkeypatch.setenv("TAXIWAY_URL", "http://10.0.0.1:7700")
    monkeypatch.setenv("TAXIWAY_TOKEN", "twy_from_env")
    found = config.resolve("http://10.9.9.9:1", token_file(places, "flag.token", "twy_from_flag"))
    assert (found.url, found.token, found.source) == ("http://10.9.9.9:1", "twy_from_flag", "--url")


def test_dev_token_goes_only_to_the_dev_control_plane(places: dict[str, Path]) -> None:
    write_dev_world(places)
    with pytest.raises(
        ConfigurationError, match=re.escape("no token for the control plane at http://10.0.0.1:7700")
    ):
        config.resolve("http://10.0.0.1:7700")


def test_token_never_shown(places: dict[str, Path]) -> None:
    write_dev_world(places)
    found = config.resolve()
    assert "twy_dev_admin" not in repr(found)
    assert "twy_dev_admin" not in repr(config.dev_world())


def test_unreadable_or_empty_token_file_is_a_clear_error(places: dict[str, Path]) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the token file"):
        config.resolve("http://127.0.0.1:1", places["tmp"] / "missing.token")
    with pytest.raises(ConfigurationError, match="is empty"):
        config.resolve("http://127.0.0.1:1", token_file(places, "empty.token", ""))


def test_url_must_be_http(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXIWAY_TOKEN", "twy_x")
    with pytest.raises(ConfigurationError, match="not an http"):
        config.resolve("127.0.0.1:7700")


def test_broken_dev_json_is_named(places: dict[str, Path]) -> None:
    (places["dev"] / "dev.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match=re.escape("dev.json")):
        config.resolve()


def test_default_dev_dir_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAXIWAY_DEV_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert config.default_dev_dir() == tmp_path / "explicit"
    monkeypatch.delenv("TAXIWAY_DEV_DIR")
    assert config.default_dev_dir() == tmp_path / "state" / "taxiway" / "dev"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config.default_dev_dir() == tmp_path / "home" / ".local" / "state" / "taxiway" / "dev"


def test_platform_files_fall_back_to_the_dev_world(places: dict[str, Path]) -> None:
    assert platform_files.load(None, None).topology is None
    write_dev_world(
        places,
        topology=str(EXAMPLES / "topology.yaml"),
        inventory=str(EXAMPLES / "inventory.yaml"),
    )
    files = platform_files.load(None, None)
    assert files.topology is not None
    assert "us-east1" in files.topology.regions
    assert files.inventory is not None
    assert [s.name for s in files.inventory.services] == ["hello", "greeter", "guestbook"]
