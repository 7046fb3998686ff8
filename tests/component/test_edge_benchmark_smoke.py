"""``benchmarks/edge.py`` runs end to end at its shortest and leaves no process behind.

Correctness only, never timing: the figures are printed, whatever they are. The first
test runs the script as a user would (``--quick``, short failover steps) and checks its
tables; the second drives the built-in Python client, the fallback when ``wrk`` is not
installed, against one fast origin.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks import edge

from tests.fixtures.haproxy_world import require_haproxy

ROOT = Path(__file__).resolve().parents[2]
ROWS = (
    "(a) straight to the instance",
    "(b) region ingress → instance",
    "(c) PoP → ingress → instance",
    "region (ingress + instance)",
    "instance only (ingress stays)",
)


@pytest.mark.slow
def test_a_quick_run_prints_every_row_and_leaves_no_process() -> None:
    require_haproxy()
    result = subprocess.run(
        [sys.executable, "benchmarks/edge.py", "--quick", "--duration", "1", "--settle", "0.1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for row in ROWS:
        assert re.search(rf"^{re.escape(row)}\s+\d", out, re.MULTILINE), f"no row {row!r} in:\n{out}"
    state = re.search(r"state under (\S+);", out)
    assert state is not None, out
    root = edge.World(Path(state[1]))
    assert root.leftovers() == []
    assert not root.root.exists()
    assert "had to kill" not in result.stderr


def test_the_python_client_loads_an_origin_over_keep_alive_connections() -> None:
    require_haproxy()
    with edge.world() as created:
        region = edge.Region("us-east1", created.haproxy("origin"), created.haproxy("unused"))
        region.start_origin()
        figures = edge.run_python("origin", region.origin_port, seconds=0.3, connections=4)
        root = created.root
    assert figures.requests > 0
    assert figures.errors == 0
    assert 0 < figures.p50_ms <= figures.p99_ms
    assert edge.World(root).leftovers() == []
