"""``taxiway server`` and ``taxiway server init``: run and set up the control plane."""

from __future__ import annotations

import click


@click.group(invoke_without_command=True)
def server() -> None:
    """Run the control plane (placeholder)."""
