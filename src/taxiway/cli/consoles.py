"""The CLI's consoles: where every command prints, with ``NO_COLOR`` honoured in full.

Rich alone, under ``NO_COLOR``, drops colours but keeps bold, dim and underline;
https://no-color.org asks for output without ANSI styling, so a set, non-empty
``NO_COLOR`` turns every style off. Output that is not a terminal is plain anyway.
"""

from __future__ import annotations

import os

from rich.console import Console


def _plain() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True, color_system=None if _plain() else "auto")


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, color_system=None if _plain() else "auto")
