"""Shared fixtures: paths to the shipped examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.stores"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE_SERVICES = dict.fromkeys(
    re.findall(r"^  - name: (\S+)$", (EXAMPLES / "inventory.yaml").read_text(), re.M), "file"
)
"""The services examples/inventory.yaml lists, each as the inventory routes say it came: from the file."""


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
