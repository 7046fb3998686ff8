"""The pieces the satellite and the edge share: token, newest snapshot, state lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from taxiway.agent import agent_token
from taxiway.agent.latest import Latest
from taxiway.agent.state_lock import StateLock
from taxiway.errors import ConfigurationError


def test_the_token_comes_from_the_file_first_then_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("twy_a_file\n")
    assert agent_token.read(token_file, {"TAXIWAY_TOKEN": "twy_b_env"}) == "twy_a_file"
    assert agent_token.read(None, {"TAXIWAY_TOKEN": " twy_b_env "}) == "twy_b_env"
    with pytest.raises(ConfigurationError, match="--token-file"):
        agent_token.read(None, {})
    token_file.write_text("  \n")
    with pytest.raises(ConfigurationError, match="empty"):
        agent_token.read(token_file, {})
    with pytest.raises(ConfigurationError, match="cannot read"):
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
