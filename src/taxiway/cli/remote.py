"""Commands that talk to the control plane: deploy, status, logs, rollback, revisions, regions, chaos."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
