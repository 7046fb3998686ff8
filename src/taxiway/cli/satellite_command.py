"""``taxiway satellite --region R``: run one region's satellite."""

from __future__ import annotations

import click


@click.command()
def satellite() -> None:
    """Run one region's satellite (placeholder)."""
