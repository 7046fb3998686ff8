"""Shared fixtures: paths to the shipped examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.stores", "tests.fixtures.api_server"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE_SERVICES = dict.fromkeys(
    re.findall(r"^  - name: (\S+)$", (EXAMPLES / "inventory.yaml").read_text(), re.M), "file"
)
"""The services examples/inventory.yaml lists, each as the inventory routes say it came: from the file."""


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(autouse=True)
def _local_digest_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``render`` and local ``plan`` key secret digests with a per-user key file: keep the
    tests' out of the home directory (a test may point it elsewhere)."""
    key = tmp_path_factory.getbasetemp() / "local-digest.key"
    monkeypatch.setenv("TAXIWAY_LOCAL_DIGEST_KEY_FILE", str(key))
