"""The request log sink's datagram queue: raised when it may be, said when it may not."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from taxiway.observability import datagram_queue


def test_a_short_queue_is_raised_by_root_and_named_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sysctl = tmp_path / "max_dgram_qlen"
    sysctl.write_text("10\n")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with caplog.at_level(logging.WARNING):
        assert datagram_queue.ensure(4096, sysctl) == 10
    assert "sysctl -w net.unix.max_dgram_qlen=4096" in caplog.text
    assert sysctl.read_text() == "10\n"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert datagram_queue.ensure(4096, sysctl) == 4096
    assert sysctl.read_text() == "4096\n"


def test_a_long_enough_queue_or_none_at_all_is_left_alone(tmp_path: Path) -> None:
    sysctl = tmp_path / "max_dgram_qlen"
    sysctl.write_text("8192\n")
    assert datagram_queue.ensure(4096, sysctl) == 8192
    assert sysctl.read_text() == "8192\n"
    assert datagram_queue.ensure(4096, tmp_path / "absent") is None
