"""Starting the supervisor detached from ``dev up``: a new session, output to its log file.

``posix_spawn`` rather than ``subprocess.Popen``: ``dev up`` exits long before the
supervisor does and never waits for it, and a ``Popen`` object dropped while its process
runs is a resource warning. The supervisor's stdin is /dev/null and its stdout and
stderr go to ``DIR/logs/supervisor.log``, so it holds no terminal and no pipe of the
caller (a shell waiting for ``dev up``'s output is not kept waiting by it).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from taxiway.dev import layout as paths
from taxiway.dev import provisioning

# Dispositions a caller may have set to "ignore" (a shell's background job, nohup), which
# an exec'd process would inherit; the supervisor needs the defaults back.
RESET_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGQUIT)


def supervisor(python: str, layout: paths.Layout) -> int:
    """Spawn ``taxiway dev supervise --dir DIR``; answer its pid (our child until we exit)."""
    log = layout.log_file("supervisor")
    argv = [python, "-m", "taxiway.cli.main", "dev", "supervise", "--dir", str(layout.root)]
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    return os.posix_spawn(
        python,
        argv,
        provisioning.child_environment(),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), flags, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
        setsigdef=RESET_SIGNALS,
    )


def exited(pid: int) -> int | None:
    """The exit status of the supervisor we spawned if it has exited (reaping it), else ``None``.

    ``pid`` must be our own child, not yet reaped: ``dev up`` asks while it waits.
    """
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def log_tail(path: Path, lines: int = 15) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return []
