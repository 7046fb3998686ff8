"""Plain aligned tables for the remote commands, and the cell formats they share.

Columns are padded, never wrapped or cut, so the output reads the same in a terminal,
a pipe and a CI log, and a line can be found with grep. Used by the status, regions
and revisions views.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.text import Text


def print_table(
    console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = ""
) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    console.print(Text(line(headers), style="bold"), soft_wrap=True)
    for row in rows:
        console.print(escape(line(row)), soft_wrap=True, highlight=False)


def age(then: datetime.datetime | None, now: datetime.datetime) -> str:
    """``4s ago``, ``3m ago``, ``2h ago``, ``5d ago``; ``never`` for no time."""
    if then is None:
        return "never"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def short_digest(digest: str | None) -> str:
    """``sha256:0123456789ab`` from a full digest."""
    if not digest:
        return "-"
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest[:19]


def count(value: int | None) -> str:
    return "?" if value is None else str(value)
