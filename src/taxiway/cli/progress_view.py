"""How a deploy's or rollback's progress reaches the user while the CLI waits.

On a terminal a live table is redrawn in place; elsewhere (a pipe, CI) each region gets
one line whenever what it reports changes, so logs stay short and readable. After the
wait, :func:`print_failure` shows the failed instance, why, and its last log lines.
"""

from __future__ import annotations

import os
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from taxiway.cli import table_view
from taxiway.plan import readiness

_STYLE = {"ready": "green", "failed": "bold red", "progressing": "yellow", "waiting": "dim"}


def _state(region: readiness.RegionProgress) -> str:
    if region.state == "waiting" and region.reported_revision is not None:
        return f"waiting (runs revision {region.reported_revision})"
    return region.state


def _instances(region: readiness.RegionProgress) -> str:
    if region.state == "waiting":
        return "-"
    return f"{table_view.count(region.ready_instances)}/{table_view.count(region.desired_instances)} ready"


def _message(region: readiness.RegionProgress) -> str:
    # A region still on an older revision reports about that one; its words would mislead.
    return "" if region.state == "waiting" and region.reported_revision is not None else region.message


def _line(region: readiness.RegionProgress) -> str:
    """``us-east1: progressing, 1/2 ready — message`` (escaped for rich)."""
    text = f"{region.region}: {escape(_state(region))}"
    if region.state != "waiting":
        text += f", {_instances(region)}"
    return text + (f" — {escape(_message(region))}" if _message(region) else "")


def _table(progress: readiness.Progress) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("REGION", "STATE", "INSTANCES", "MESSAGE"):
        table.add_column(column, no_wrap=column != "MESSAGE")
    for region in progress.regions:
        style = _STYLE.get(region.state, "")
        table.add_row(
            region.region,
            f"[{style}]{escape(_state(region))}[/]" if style else escape(_state(region)),
            _instances(region),
            escape(_message(region)),
        )
    return table


class ProgressDisplay:
    """Shows every update of a wait; a context manager around the waiting loop."""

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self.live = console.is_terminal and not os.environ.get("CI") if live is None else live
        self._live: Live | None = None
        self._shown: dict[str, tuple[object, ...]] = {}

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def update(self, progress: readiness.Progress) -> None:
        if self._live is not None:
            self._live.update(_table(progress), refresh=True)
            return
        for region in progress.regions:
            seen = (
                region.state,
                region.reported_revision,
                region.ready_instances,
                region.desired_instances,
                region.message,
            )
            if self._shown.get(region.region) == seen:
                continue
            self._shown[region.region] = seen
            self.console.print(f"  {_line(region)}", highlight=False, soft_wrap=True)


def print_failure(console: Console, progress: readiness.Progress) -> None:
    """Each failed region: its message, then each failing instance's reason and log tail."""
    for region in progress.failed:
        console.print(
            f"[bold red]✗[/] {region.region}: {escape(region.message or 'failed')}",
            highlight=False,
            soft_wrap=True,
        )
        for instance in region.culprits:
            reason = f": {escape(instance.reason)}" if instance.reason else ""
            console.print(
                f"  instance {escape(instance.id)} on {escape(instance.placement)} "
                f"({escape(instance.state)}, {instance.restarts} restarts){reason}",
                highlight=False,
                soft_wrap=True,
            )
            if instance.log_tail:
                console.print(f"  last {len(instance.log_tail)} log lines:", highlight=False)
                for line in instance.log_tail:
                    console.print(f"    | {escape(line)}", highlight=False, soft_wrap=True)
