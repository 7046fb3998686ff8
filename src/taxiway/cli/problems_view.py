"""How problems reach the user: one compiler-style line each on stderr, or JSON.

Warnings (nothing wrong yet, but a deploy would stop on it) print the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from taxiway.spec.problem import REQUEST, Problem


def print_problems(console: Console, problems: Sequence[Problem]) -> None:
    for problem in problems:
        console.print(f"[bold red]error[/]: {escape(problem.render())}", highlight=False, soft_wrap=True)
    files = {p.location.file for p in problems if p.location != REQUEST}
    count = len(problems)
    where = [f"{len(files)} file{'s' if len(files) != 1 else ''}"] if files else []
    if any(p.location == REQUEST for p in problems):
        where.append("the request")
    console.print(
        f"{count} problem{'s' if count != 1 else ''} in {' and '.join(where)}", style="red", highlight=False
    )


def print_warnings(console: Console, warnings: Sequence[Problem]) -> None:
    for warning in warnings:
        console.print(f"[bold yellow]warning[/]: {escape(warning.render())}", highlight=False, soft_wrap=True)
