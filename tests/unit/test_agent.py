"""The pieces the satellite and the edge share: flags, token, newest snapshot, state lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from taxiway.agent import agent_flags, agent_token
from taxiway.agent import settings as agent_settings
from taxiway.agent.latest import Latest
from taxiway.agent.state_lock import StateLock
from taxiway.client import config
from taxiway.edge import settings as edge_settings
from taxiway.errors import ConfigurationError
from taxiway.satellite import settings as satellite_settings


def test_the_token_comes_from_the_file_first_then_the_environment(tmp_path: Path) -> None:
    """Never from argv: it is visible to every user of the machine."""
    token_file = tmp_path / "token"
    token_file.write_text("twy_a_file\n")
    assert agent_token.read(token_file, {"TAXIWAY_TOKEN": "twy_b_env"}) == "twy_a_file"
    assert agent_token.read(token_file, {}) == "twy_a_file"
    assert agent_token.read(None, {"TAXIWAY_TOKEN": " twy_b_env "}) == "twy_b_env"
    with pytest.raises(ConfigurationError, match="no token: pass --token-file PATH or set TAXIWAY_TOKEN"):
        agent_token.read(None, {})
    for blank in ("  \n", "\n", ""):
        token_file.write_text(blank)
        with pytest.raises(ConfigurationError, match="is empty"):
            agent_token.read(token_file, {})
    with pytest.raises(ConfigurationError, match="cannot read the token file"):
        agent_token.read(tmp_path / "missing", {})


@dataclass(frozen=True)
class Snapshot:
    fingerprint: tuple[int, ...]
    detail: str = ""


def test_latest_says_when_a_snapshot_is_worth_reporting_at_once() -> None:
    latest: Latest[Snapshot] = Latest()
    assert latest.get() is None
    assert latest.publish(Snapshot((1,)))
    assert not latest.publish(Snapshot((1,), detail="only timing changed"))
    assert latest.get() == Snapshot((1,), detail="only timing changed")
    assert latest.publish(Snapshot((2,)))


def test_one_agent_per_state_directory(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = StateLock(state / "agent.lock", "satellite")
    first.take(state, mode=0o700)
    assert (state.stat().st_mode & 0o777) == 0o700
    second = StateLock(state / "agent.lock", "satellite")
    with pytest.raises(ConfigurationError, match="another satellite runs"):
        second.take(state)
    first.release()
    second.take(state)
    second.release()


def test_the_agents_check_a_token_file_and_a_url_as_the_cli_does(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    with pytest.raises(ConfigurationError, match=r"the token file .* \(from --token-file\) is empty"):
        agent_token.read(empty, {})
    with pytest.raises(ConfigurationError, match="from --control-plane is not an http"):
        agent_flags.control_plane_url("http://127.0.0.1:7700/?region=x")
    with pytest.raises(ConfigurationError, match="from --url is not an http"):
        config.checked_url("http://127.0.0.1:7700#fragment", "--url")
    assert config.checked_url("https://cp.example/", "--url") == "https://cp.example"


def test_the_satellite_and_the_edge_share_their_agent_settings(tmp_path: Path) -> None:
    url, token = "http://127.0.0.1:7700", "twy_secret"
    satellite = satellite_settings.SatelliteSettings(
        region="us-east1", control_plane=url, token=token, state_dir=tmp_path
    )
    edge = edge_settings.EdgeSettings(pop="iad", control_plane=url, token=token, state_dir=tmp_path)
    for agent in (satellite, edge):
        assert isinstance(agent, agent_settings.AgentSettings)
        assert (agent.poll_wait_seconds, agent.retry_max_seconds, agent.domain) == (25.0, 5.0, "taxiway.test")
        assert "twy_secret" not in repr(agent)
    assert satellite.lock_file == tmp_path / "satellite.lock"
    assert edge.lock_file == tmp_path / "edge.lock"
