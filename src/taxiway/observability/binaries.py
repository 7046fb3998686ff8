"""Where Prometheus, promtool and Alertmanager are on this machine, and how to start them.

Debian's packages (``prometheus``, ``prometheus-alertmanager``) put them in ``/usr/bin``;
Debian names Alertmanager's binary ``prometheus-alertmanager``. Every listener binds the
address given (loopback in the dev world and in tests); Alertmanager's cluster listener,
which would bind every interface on port 9094 by default, is switched off.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from taxiway.errors import ConfigurationError

INSTALL_HINT = "install Debian's packages: apt-get install prometheus prometheus-alertmanager"


def find(*candidates: str) -> str:
    for name in candidates:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin:/usr/local/bin")
        if found:
            return found
    raise ConfigurationError(f"{candidates[0]} is not installed; {INSTALL_HINT}")


def prometheus() -> str:
    return find("prometheus")


def promtool() -> str:
    return find("promtool")


def alertmanager() -> str:
    return find("prometheus-alertmanager", "alertmanager")


def prometheus_argv(
    binary: str, config_file: Path, data_dir: Path, listen: str, *, remote_write_receiver: bool = False
) -> tuple[str, ...]:
    argv = [
        binary,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={listen}",
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time=31d",
        "--log.level=warn",
    ]
    if remote_write_receiver:
        argv.append("--web.enable-remote-write-receiver")
    return tuple(argv)


def alertmanager_argv(binary: str, config_file: Path, data_dir: Path, listen: str) -> tuple[str, ...]:
    return (
        binary,
        f"--config.file={config_file}",
        f"--storage.path={data_dir}",
        f"--web.listen-address={listen}",
        "--cluster.listen-address=",
        "--log.level=warn",
    )
