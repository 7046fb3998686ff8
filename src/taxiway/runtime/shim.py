"""The per-instance shim: starts one instance, writes its logs with rotation, records its exit.

Run by the ``local`` driver as ``python -m taxiway.runtime.shim <instance dir>`` with a
JSON launch request on stdin (argv, cwd, env, rotation, and the user and groups to run it
as when the satellite isolates instances), so secret env values never show
on a command line. Like containerd's shim or Podman's conmon, it exists so that an
instance outlives the satellite that started it:

- It double-forks into its own session: the satellite reaps the short-lived intermediate
  at once, and the shim and the instance are never the satellite's children, so a
  satellite crash (or ``kill -9``) leaves them running and creates no zombies.
- The instance starts in a session of its own as well, with stdout and stderr on one pipe
  whose read end only the shim holds. The shim writes that stream to ``instance.log``, each
  line stamped with the time it read it, and rotates by size itself. This is why rotation
  keeps working while no satellite runs; copy-truncate from the driver would stop rotating
  when the satellite dies and loses the lines written between the copy and the truncate.
  The cost: if the shim is killed, the instance's next write fails (EPIPE) and the
  instance usually exits — the supervisor then restarts both, which is the same path as
  any crash.
- It writes ``process.json`` (pid and ``/proc`` start time of the instance and of itself)
  before reporting success, so a driver that dies right after the launch still finds the
  instance, and ``exit.json`` (status, time) when the instance exits, for post-mortems.

It imports nothing heavy (no pydantic, no httpx): one runs beside every instance.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from taxiway.runtime import logfile, process, statefile

LOG_NAME = "instance.log"
PROCESS_FILE = "process.json"
EXIT_FILE = "exit.json"


def _report(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, json.dumps(message).encode())
    os.close(fd)


def _serve(directory: Path, request: dict[str, Any], report_fd: int) -> int:
    """In the shim proper (the grandchild): run the instance until it exits."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # release the driver's pipes, so its launch call returns
        os.dup2(devnull, fd)
    os.close(devnull)
    rotation = logfile.Rotation(max_bytes=int(request["max_bytes"]), keep=int(request["keep"]))
    log = logfile.RotatingLog(directory / LOG_NAME, rotation)
    stamper = logfile.Stamper()
    read_end, write_end = os.pipe()
    # An isolated instance runs as its service's user, with only the groups it is given
    # (never root's), and makes files no other user can read.
    identity: dict[str, Any] = {}
    if request.get("user") is not None:
        identity = {
            "user": int(request["user"]),
            "group": int(request["group"]),
            "extra_groups": [int(g) for g in request.get("extra_groups", [])],
            "umask": 0o077,
        }
    try:
        child = subprocess.Popen(
            request["argv"],
            cwd=request["cwd"],
            env=request["env"],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=write_end,
            start_new_session=True,
            restore_signals=True,
            **identity,
        )
    except OSError as exc:
        _report(report_fd, {"ok": False, "error": f"{request['argv'][0]}: {exc.strerror or exc}"})
        return 1
    finally:
        os.close(write_end)
    # Only now, after the exec (ignored signals are inherited across exec): the shim drains
    # the instance's output until it ends; stop signals are meant for the instance.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    instance = process.identify(child.pid)
    me = process.identify(os.getpid())
    if instance is None or me is None:  # exited before we could look: record it anyway
        instance = instance or process.ProcessId(child.pid, 0)
        me = me or process.ProcessId(os.getpid(), 0)
    statefile.write(
        directory / PROCESS_FILE,
        {
            "pid": instance.pid,
            "start_time": instance.start_time,
            "shim_pid": me.pid,
            "shim_start_time": me.start_time,
            "started_at": time.time(),
        },
    )
    _report(report_fd, {"ok": True, "pid": instance.pid})

    selector = selectors.DefaultSelector()
    selector.register(read_end, selectors.EVENT_READ)
    exit_recorded = False
    while True:
        if not exit_recorded and child.poll() is not None:
            # Record the exit as soon as it happens, even if grandchildren keep the pipe open.
            _record_exit(directory, child.returncode)
            exit_recorded = True
        if not selector.select(timeout=0.5):
            continue
        data = os.read(read_end, 65536)
        if not data:
            break
        log.write(stamper.apply(data, time.time()))
    log.close()
    if not exit_recorded:
        _record_exit(directory, child.wait())
    return 0


def _record_exit(directory: Path, returncode: int) -> None:
    with contextlib.suppress(OSError):  # the driver forgot the instance and removed its directory
        statefile.write(directory / EXIT_FILE, {"returncode": returncode, "exited_at": time.time()})


def main(argv: list[str]) -> int:
    directory = Path(argv[1])
    request = json.loads(sys.stdin.read())
    read_fd, write_fd = os.pipe()
    if os.fork() == 0:
        os.close(read_fd)
        try:
            code = _serve(directory, request, write_fd)
        except BaseException as exc:  # never let the grandchild return into the caller
            with contextlib.suppress(OSError):
                _report(write_fd, {"ok": False, "error": f"shim: {exc}"})
            code = 1
        os._exit(code)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    message = b"".join(chunks).decode() or json.dumps({"ok": False, "error": "shim died during launch"})
    sys.stdout.write(message + "\n")
    sys.stdout.flush()
    return 0 if json.loads(message).get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
