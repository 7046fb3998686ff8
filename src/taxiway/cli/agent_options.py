"""The flags ``taxiway satellite`` and ``taxiway edge`` share: same names, types and defaults.

Each command passes its own help text where the flag means something of its own (whose
token, what the state directory holds, what is polled), so ``--help`` reads naturally for
either agent while the flags stay one definition.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def control_plane_and_state(*, token_help: str, state_dir_help: str) -> Callable[[F], F]:
    """``--control-plane``, ``--token-file``, ``--state-dir`` and ``--topology``, in this order."""

    def add(command: F) -> F:
        # click lists options in the order their decorators are written, which is the
        # reverse of the order they are applied here.
        command = click.option(
            "--topology",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Topology file [env TAXIWAY_TOPOLOGY, or 'topology:' in the platform config].",
        )(command)
        command = click.option(
            "--state-dir",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help=state_dir_help,
        )(command)
        command = click.option(
            "--token-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help=token_help,
        )(command)
        return click.option(
            "--control-plane", "control_plane", required=True, metavar="URL", help="Control plane URL."
        )(command)

    return add


def report_every(help_text: str) -> Callable[[F], F]:
    """``--report-every SECONDS``: the status heartbeat period."""
    return click.option(
        "--report-every",
        type=click.FloatRange(min=0.0, min_open=True),
        default=2.0,
        show_default=True,
        metavar="SECONDS",
        help=help_text,
    )


def poll_wait(help_text: str) -> Callable[[F], F]:
    """``--poll-wait SECONDS``: the longest wait of one long poll (the control plane caps it at 30)."""
    return click.option(
        "--poll-wait",
        type=click.FloatRange(min=0.0, max=30.0),
        default=25.0,
        show_default=True,
        metavar="SECONDS",
        help=help_text,
    )


def prometheus(whose: str) -> Callable[[F], F]:
    """``--prometheus-dir DIR`` and ``--prometheus-url URL``: the Prometheus whose targets
    and rules this process keeps (``whose``: "the region's", "the global")."""

    def decorate(function: F) -> F:
        function = click.option(
            "--prometheus-url",
            envvar="TAXIWAY_PROMETHEUS_URL",
            metavar="URL",
            help=f"{whose.capitalize()} Prometheus, asked to reload when the rules change "
            "(it runs with --web.enable-lifecycle) [env TAXIWAY_PROMETHEUS_URL].",
        )(function)
        return click.option(
            "--prometheus-dir",
            envvar="TAXIWAY_PROMETHEUS_DIR",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Keep the targets/ and rules/ of {whose} Prometheus here "
            "(`taxiway observability config` writes the prometheus.yml that reads them) "
            "[env TAXIWAY_PROMETHEUS_DIR].",
        )(function)

    return decorate
