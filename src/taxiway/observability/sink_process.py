"""Start, adopt and stop the request log sink of one ingress (``taxiway ingress-log-sink``).

Called by the satellite beside its ingress HAProxy, and by ``taxiway dev down`` and tests
through :meth:`SinkProcess.stop`. Like HAProxy, the sink runs detached, in a session of
its own, so the region's request metrics go on while the satellite restarts; the next
satellite on the same state directory *adopts* it through the pid file, trusting a pid
only while ``/proc`` shows that very process running the sink on this socket (a stale pid
file never leads to signalling a stranger). A sink adopted with other flags than the ones
wanted now (another metrics port, say) is replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from taxiway.errors import TransientError

MODULE = "taxiway.cli.ingress_log_sink_command"
"""Run with ``python -m``: the ``taxiway ingress-log-sink`` command without the CLI's
other imports (seconds on a busy machine)."""
PID_FILE = "request-log-sink.pid"
LOG_FILE = "request-log-sink.log"


class SinkFailed(TransientError):
    """The request log sink did not start (its log says why); tried again later."""

    code = "sink-failed"


@dataclass(frozen=True)
class SinkFlags:
    socket: Path
    metrics_host: str
    metrics_port: int
    stats_socket: Path | None = None
    thresholds_file: Path | None = None

    def argv(self) -> list[str]:
        host = f"[{self.metrics_host}]" if ":" in self.metrics_host else self.metrics_host
        out = ["--socket", str(self.socket), "--metrics", f"{host}:{self.metrics_port}"]
        if self.stats_socket is not None:
            out += ["--stats-socket", str(self.stats_socket)]
        if self.thresholds_file is not None:
            out += ["--buckets", str(self.thresholds_file)]
        return out

    @property
    def metrics_url(self) -> str:
        host = f"[{self.metrics_host}]" if ":" in self.metrics_host else self.metrics_host
        return f"http://{host}:{self.metrics_port}/metrics"


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return False
    return raw[raw.rindex(")") + 2 :].split()[0] not in ("Z", "X")


class SinkProcess:
    """The sink whose pid file is in ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.directory = directory
        self.python = python
        self.env = None if env is None else dict(env)
        self.timeout = timeout
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.directory / PID_FILE

    @property
    def log_file(self) -> Path:
        return self.directory / LOG_FILE

    def _argv(self, flags: SinkFlags) -> list[str]:
        return [self.python, "-m", MODULE, *flags.argv()]

    def running_argv(self) -> list[str] | None:
        """The command line of the sink this directory's pid file names, if it runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        argv = _cmdline(pid)
        if not _alive(pid) or MODULE not in argv:
            return None
        try:  # started with this directory as its working directory: this one's sink
            if os.readlink(f"/proc/{pid}/cwd") != str(self.directory.resolve()):
                return None
        except OSError:
            return None
        return argv

    def pid(self) -> int | None:
        if self.running_argv() is None:
            return None
        return int(self.pid_file.read_text().strip())

    def ensure(self, flags: SinkFlags) -> bool:
        """Adopt the sink running with exactly ``flags``, or (re)start it so; ``True`` if
        one was started. Returns once ``/metrics`` answers."""
        running = self.running_argv()
        if running is not None and running[-len(flags.argv()) :] == flags.argv():
            return False
        if running is not None:
            self.stop()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._reap()
        with open(self.log_file, "ab") as log:
            child = subprocess.Popen(
                self._argv(flags),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.directory,
                env=self.env,
                start_new_session=True,
                close_fds=True,
            )
        self._child = child
        self.pid_file.write_text(f"{child.pid}\n")
        deadline = time.monotonic() + self.timeout
        while not self._answers(flags.metrics_url):
            if child.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise SinkFailed(
                    f"the request log sink exited with status {child.returncode}; log: {self._tail()}"
                )
            if time.monotonic() >= deadline:
                self.stop()
                raise SinkFailed(
                    f"the request log sink did not answer within {self.timeout:g}s; log: {self._tail()}"
                )
            time.sleep(0.02)
        return True

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as answer:
                return int(answer.status) == 200
        except OSError:
            return False

    def _tail(self, lines: int = 10) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def detach(self) -> None:
        """Leave the sink running; a daemon thread reaps it whenever it exits."""
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            threading.Thread(target=child.wait, name=f"sink-reaper-{child.pid}", daemon=True).start()

    def _reap(self) -> None:
        if self._child is not None and self._child.poll() is not None:
            self._child = None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the timeout; returns once it is gone."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + self.timeout
            while _alive(pid) and time.monotonic() < deadline:
                if self._child is not None and self._child.pid == pid:
                    self._child.poll()
                time.sleep(0.02)
            if _alive(pid) and MODULE in _cmdline(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self._child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=self.timeout)
            self._child = None
        self.pid_file.unlink(missing_ok=True)
