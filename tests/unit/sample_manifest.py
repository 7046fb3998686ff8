"""The smallest valid manifest text the unit tests build on, with known line numbers.

Lines 1-9 are fixed (``regions`` is line 9), so anything a test appends under ``spec``
starts at line 10 and tests can assert exact line numbers.
"""

from __future__ import annotations


def base(regions: str) -> str:
    """A manifest for service ``hello`` owned by ``team-hello``; ``regions`` is YAML flow text."""
    return (
        "apiVersion: taxiway/v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: hello\n"
        "  owner: team-hello\n"
        "spec:\n"
        "  run:\n"
        "    command: [python3, app.py]\n"
        f"  regions: [{regions}]\n"
    )
