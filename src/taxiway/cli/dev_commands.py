"""``taxiway dev up|down|status``: the development world on one machine."""

from __future__ import annotations

import click


@click.group()
def dev() -> None:
    """Run a control plane and one satellite per region on this machine (placeholder)."""
