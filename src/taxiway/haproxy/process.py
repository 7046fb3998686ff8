"""Start, reload and stop one HAProxy in master-worker mode under a state directory.

Called by the satellite (its region's ingress) and the edge process (its PoP). HAProxy
runs detached, in a session of its own, so it keeps serving when the Taxiway process that
started it stops or crashes — like instances, the data plane must not depend on its
control plane being up. A restarted Taxiway process finds it again through the pid file,
and trusts a pid only while ``/proc`` shows that very pid running HAProxy on this state
directory's config (a stale pid file never leads to signalling a stranger).

A new config is checked with ``haproxy -c`` *before* it replaces the live file, so a bad
render never reaches a running HAProxy. A reload then saves ``show servers state`` into
the server-state file the config loads (keeping drained, maintained and down servers as
they are), signals the master (SIGUSR2) and waits on the master CLI's ``show proc`` until
a new worker answers on the stats socket. The new worker takes over the listening
sockets from the old one (``expose-fd listeners``; the master passes them over a socket
pair), so no connection is refused during a reload; the old worker finishes its requests
and leaves, bounded by ``hard-stop-after``.

Runtime API changes made between the state dump and the new worker's start are lost;
callers serialise their changes and reloads (one reconcile loop per HAProxy).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, TypeVar

from taxiway.haproxy.errors import (
    ConfigRejected,
    HaproxyMissing,
    ProcessFailed,
    ReloadRejected,
    RuntimeApiError,
    RuntimeApiUnavailable,
)
from taxiway.haproxy.layout import Layout
from taxiway.haproxy.runtime_api import RuntimeApi
from taxiway.plan.haproxy import answers, tokens
from taxiway.system import atomic_file

T = TypeVar("T")

_MESSAGE = re.compile(r"^\[(ALERT|WARNING)\]\s*\(\d+\)\s*:\s*(.*)$")
EMPTY_SERVER_STATE = "1\n"
"""A server-state file with no servers: loading it is silent (a missing file warns)."""


def _proc_state(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()[0]


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    """The pid runs and is not a zombie."""
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X")


def _wait(what: str, within: float, probe: Callable[[], T | None], failed: Callable[[], str | None]) -> T:
    """Poll ``probe`` until it returns a value, ``failed`` reports a reason, or time runs out."""
    deadline = time.monotonic() + within
    while True:
        with contextlib.suppress(RuntimeApiUnavailable, RuntimeApiError, ValueError):
            result = probe()
            if result is not None:
                return result
        reason = failed()
        if reason is not None:
            raise ProcessFailed(f"{what}: {reason}")
        if time.monotonic() >= deadline:
            raise ProcessFailed(f"{what}: not done within {within:g}s")
        time.sleep(0.02)


class Haproxy:
    """One HAProxy master (and its workers) owning a :class:`Layout`."""

    def __init__(
        self,
        layout: Layout,
        *,
        binary: str = "haproxy",
        timeout: float = 15.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.layout = layout
        self.binary = binary
        self.timeout = timeout
        self.env = None if env is None else dict(env)
        """The environment HAProxy runs with; ``None`` inherits ours. A caller holding a
        secret in its environment (a token) passes only what HAProxy needs."""
        self._child: subprocess.Popen[bytes] | None = None

    # -- files and checks

    def executable(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise HaproxyMissing(self.binary)
        return found

    def prepare(self) -> None:
        """Create the state directory (owner only) and an empty server-state file."""
        self.layout.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tokens.unix_socket_path(self.layout.stats_socket, "stats socket")
        tokens.unix_socket_path(self.layout.master_socket, "master socket")
        if not self.layout.server_state.exists():
            atomic_file.write_text(self.layout.server_state, EMPTY_SERVER_STATE)

    def check(self, path: Path) -> tuple[str, ...]:
        """Run ``haproxy -c`` on ``path``; return its warnings, raise its alerts."""
        result = subprocess.run(
            [self.executable(), "-c", "-f", str(path)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
            env=self.env,
        )
        alerts: list[str] = []
        warnings: list[str] = []
        for line in (result.stdout + result.stderr).splitlines():
            match = _MESSAGE.match(line.strip())
            if match:
                (alerts if match[1] == "ALERT" else warnings).append(match[2])
        if result.returncode != 0:
            raise ConfigRejected(str(path), tuple(alerts) or (result.stderr.strip()[-500:],))
        return tuple(warnings)

    def install(self, text: str) -> bool:
        """Check ``text`` and make it the live config; False when it is already live."""
        self.prepare()
        if self.layout.config_file.exists() and self.layout.config_file.read_text(encoding="utf-8") == text:
            return False
        candidate = self.layout.state_dir / "haproxy.cfg.new"
        atomic_file.write_text(candidate, text)
        try:
            self.check(candidate)
        except BaseException:
            candidate.unlink(missing_ok=True)
            raise
        os.replace(candidate, self.layout.config_file)
        return True

    # -- the process

    @property
    def api(self) -> RuntimeApi:
        """The worker's runtime API."""
        return RuntimeApi.unix(self.layout.stats_socket)

    @property
    def master_cli(self) -> RuntimeApi:
        return RuntimeApi.unix(self.layout.master_socket)

    def processes(self) -> answers.Processes:
        return answers.parse_proc(self.master_cli.execute("show proc"))

    def master_pid(self) -> int | None:
        """The running master's pid, or None (no pid file, or it names another process)."""
        try:
            pid = int(self.layout.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if not alive(pid) or str(self.layout.config_file) not in _cmdline(pid):
            return None
        return pid

    def running(self) -> bool:
        return self.master_pid() is not None

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.layout.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def _child_exit(self) -> str | None:
        if self._child is not None and self._child.poll() is not None:
            return f"HAProxy exited with status {self._child.returncode}; log: {self._log_tail()}"
        return None

    def start(self) -> int:
        """Start HAProxy on the installed config unless it runs; return the master pid.

        Returns once a worker answers on the stats socket, so traffic can flow.
        """
        pid = self.master_pid()
        if pid is not None:
            return pid
        self.prepare()
        if not self.layout.config_file.exists():
            raise ProcessFailed(f"no config at {self.layout.config_file}; install one first")
        self.check(self.layout.config_file)
        # Server state is carried across reloads only. A fresh start follows the config:
        # states saved before HAProxy went away are of unknown age, and the caller's
        # reconcile loop re-applies what still holds (drains, say).
        atomic_file.write_text(self.layout.server_state, EMPTY_SERVER_STATE)
        self.layout.pid_file.unlink(missing_ok=True)
        self.detach()  # a previous child of ours died (or was stopped by another object)
        argv = [
            self.executable(),
            "-f",
            str(self.layout.config_file),
            "-p",
            str(self.layout.pid_file),
            "-S",
            f"{self.layout.master_socket},mode,600",
        ]
        with open(self.layout.log_file, "ab") as log:
            self._child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.layout.state_dir,
                env=self.env,
                start_new_session=True,
                close_fds=True,
            )

        def ready() -> int | None:
            # The worker's stats socket answers a moment before the master CLI does.
            worker = int(self.api.show_info()["Pid"])
            if self.master_pid() is None or worker not in self.processes().workers:
                return None
            return worker

        _wait("starting HAProxy", self.timeout, ready, self._child_exit)
        return self._child.pid

    def reload(self) -> None:
        """Apply the installed config to the running HAProxy, keeping server state."""
        pid = self.master_pid()
        if pid is None:
            raise ProcessFailed(f"cannot reload: no HAProxy runs for {self.layout.config_file}")
        before = self.processes()
        atomic_file.write_text(self.layout.server_state, self.api.dump_servers_state())
        os.kill(pid, signal.SIGUSR2)

        def reloaded() -> int | None:
            now = self.processes()
            if now.reloads <= before.reloads or now.failed_reloads > before.failed_reloads:
                return None
            worker = int(self.api.show_info()["Pid"])
            return worker if worker in now.workers and worker not in before.workers else None

        def failed() -> str | None:
            with contextlib.suppress(RuntimeApiUnavailable, RuntimeApiError, ValueError):
                if self.processes().failed_reloads > before.failed_reloads:
                    raise ReloadRejected(
                        f"reloading HAProxy: the new config did not load; log: {self._log_tail()}"
                    )
            return None if alive(pid) else f"the master exited; log: {self._log_tail()}"

        _wait("reloading HAProxy", self.timeout, reloaded, failed)

    def apply(self, text: str) -> Literal["started", "reloaded", "unchanged"]:
        """Install ``text``, then start HAProxy or reload it; nothing if nothing changed."""
        live = self.layout.config_file
        previous = live.read_text(encoding="utf-8") if live.exists() else None
        changed = self.install(text)
        if not self.running():
            self.start()
            return "started"
        if not changed:
            return "unchanged"
        try:
            self.reload()
        except ReloadRejected:
            # The running workers still serve the previous config; keep the file saying so,
            # so a later restart does not bring up the config that failed.
            if previous is not None:
                atomic_file.write_text(live, previous)
            raise
        return "reloaded"

    def stop(self, *, graceful: bool = True) -> None:
        """Stop master and workers and wait until every one of them is gone.

        Graceful (SIGUSR1) lets workers finish their requests first, bounded by
        ``hard-stop-after``; otherwise SIGTERM ends them at once. A process still there
        after the timeout is killed.
        """
        pid = self.master_pid()
        if pid is None:
            self._reap()
            return
        workers: tuple[int, ...] = ()
        with contextlib.suppress(RuntimeApiUnavailable, RuntimeApiError, ValueError):
            procs = self.processes()
            workers = procs.workers + procs.old_workers
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGUSR1 if graceful else signal.SIGTERM)
        deadline = time.monotonic() + self.timeout
        everyone = (pid, *workers)
        while any(alive(p) for p in everyone) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        for straggler in everyone:
            if alive(straggler) and str(self.layout.config_file) in _cmdline(straggler):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(straggler, signal.SIGKILL)
        self._reap(wait=True)
        self.layout.pid_file.unlink(missing_ok=True)

    def detach(self) -> None:
        """Forget the HAProxy this object started, leaving it running.

        For callers that stop without stopping their data plane (the edge, the satellite).
        A daemon thread waits for the process, so it is reaped whenever it exits instead
        of lingering as a zombie, and the ``Popen`` is never dropped while its process
        runs (Python reports that as a ``ResourceWarning``).
        """
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            threading.Thread(target=child.wait, name=f"haproxy-reaper-{child.pid}", daemon=True).start()

    def _reap(self, *, wait: bool = False) -> None:
        if self._child is None:
            return
        if wait:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=self.timeout)
        if self._child.poll() is not None:
            self._child = None
