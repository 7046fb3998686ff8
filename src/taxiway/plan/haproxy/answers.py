"""HAProxy's answers to read-only commands, parsed into typed rows. Pure.

* ``show stat`` — CSV whose header line starts with ``# ``; fields documented in the
  management guide §9.1 (``scur`` current sessions, ``check_status``, ``check_duration``
  the last check's duration in milliseconds, which edge steering reads as an RTT).
* ``show servers state`` — version line ``1``, a ``#`` header, then space-separated rows;
  the same text, written to the server-state file, is what a reload restores.
* ``show info`` — ``Name: value`` lines.
* ``show proc`` (master CLI) — the master, current workers and workers left by reloads.

Called by :mod:`taxiway.haproxy.runtime_api` and :mod:`taxiway.haproxy.process`; kept apart
from the sockets so the parsing is tested on captured answers without an HAProxy.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass


class ProxyKind(enum.IntEnum):
    """``show stat`` column ``type``."""

    FRONTEND = 0
    BACKEND = 1
    SERVER = 2
    LISTENER = 3


def _int(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class StatRow:
    """One row of ``show stat``: a frontend, backend, server or listener."""

    proxy: str
    name: str
    kind: ProxyKind
    status: str
    current_sessions: int
    check_status: str | None
    """``L4OK``, ``L7OK``, ``L4CON``... without the ``* `` of a check in progress."""
    check_in_progress: bool
    check_code: int | None
    check_duration_ms: int | None
    """Duration of the last health check; ``None`` before the first or without checks."""
    fields: Mapping[str, str]
    """Every column by its name, unparsed, for what the typed fields leave out."""

    @property
    def check_passed(self) -> bool:
        return self.check_status in ("L4OK", "L6OK", "L7OK", "L7OKC")

    def number(self, field: str) -> int | None:
        return _int(self.fields.get(field))


def parse_stat(text: str) -> tuple[StatRow, ...]:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"not a 'show stat' answer: {text[:80]!r}")
    reader = csv.DictReader(io.StringIO("\n".join([lines[0][2:], *lines[1:]])))
    rows = []
    for record in reader:
        if not record.get("pxname"):
            continue
        fields = {key: value or "" for key, value in record.items() if key}
        raw_status = fields.get("check_status", "")
        in_progress = raw_status.startswith("* ")
        status = raw_status[2:] if in_progress else raw_status
        rows.append(
            StatRow(
                proxy=fields["pxname"],
                name=fields["svname"],
                kind=ProxyKind(int(fields["type"])),
                status=fields.get("status", ""),
                current_sessions=_int(fields.get("scur")) or 0,
                check_status=status or None,
                check_in_progress=in_progress,
                check_code=_int(fields.get("check_code")),
                check_duration_ms=_int(fields.get("check_duration")),
                fields=fields,
            )
        )
    return tuple(rows)


class OperationalState(enum.IntEnum):
    """``srv_op_state``."""

    STOPPED = 0
    STARTING = 1
    RUNNING = 2
    STOPPING = 3


class AdminState(enum.IntFlag):
    """``srv_admin_state``: why a server is in maintenance or drain, as a bit mask."""

    FORCED_MAINT = 0x01
    INHERITED_MAINT = 0x02
    CONFIG_MAINT = 0x04
    FORCED_DRAIN = 0x08
    INHERITED_DRAIN = 0x10
    RESOLUTION_MAINT = 0x20
    FQDN_SET = 0x40


_MAINT = (
    AdminState.FORCED_MAINT
    | AdminState.INHERITED_MAINT
    | AdminState.CONFIG_MAINT
    | AdminState.RESOLUTION_MAINT
)
_DRAIN = AdminState.FORCED_DRAIN | AdminState.INHERITED_DRAIN


@dataclass(frozen=True)
class ServerState:
    """One row of ``show servers state`` (format version 1)."""

    backend: str
    server: str
    server_id: int
    address: str
    port: int | None
    operational: OperationalState
    admin: AdminState
    weight: int
    """The user-visible weight (``srv_uweight``)."""

    @property
    def in_maintenance(self) -> bool:
        return bool(self.admin & _MAINT)

    @property
    def draining(self) -> bool:
        return bool(self.admin & _DRAIN)

    @property
    def up(self) -> bool:
        return self.operational in (OperationalState.RUNNING, OperationalState.STARTING)


def parse_servers_state(text: str) -> tuple[ServerState, ...]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].strip() != "1":
        raise ValueError(f"not a version 1 'show servers state' answer: {text[:80]!r}")
    header = next((line[1:].split() for line in lines if line.startswith("#")), None)
    if header is None:
        raise ValueError("'show servers state' answer without a header line")
    states = []
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        row = dict(zip(header, line.split(), strict=False))
        states.append(
            ServerState(
                backend=row["be_name"],
                server=row["srv_name"],
                server_id=int(row["srv_id"]),
                address=row["srv_addr"],
                port=_int(row.get("srv_port")),
                operational=OperationalState(int(row["srv_op_state"])),
                admin=AdminState(int(row["srv_admin_state"])),
                weight=int(row["srv_uweight"]),
            )
        )
    return tuple(states)


def parse_info(text: str) -> dict[str, str]:
    info = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    return info


@dataclass(frozen=True)
class Processes:
    """The master CLI's ``show proc``: who runs now, and who is left from reloads."""

    master: int
    reloads: int
    failed_reloads: int
    workers: tuple[int, ...]
    old_workers: tuple[int, ...]


_MASTER = re.compile(r"^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]")
_PROCESS = re.compile(r"^(\d+)\s+worker\b")


def parse_proc(text: str) -> Processes:
    master = reloads = failed = None
    workers: list[int] = []
    old: list[int] = []
    section = "master"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "# workers":
            section = "workers"
        elif stripped == "# old workers":
            section = "old"
        elif stripped.startswith("#"):
            section = "other" if master is not None else section
        elif match := _MASTER.match(stripped):
            master, reloads, failed = (int(group) for group in match.groups())
        elif match := _PROCESS.match(stripped):
            (workers if section == "workers" else old if section == "old" else []).append(int(match[1]))
    if master is None or reloads is None or failed is None:
        raise ValueError(f"not a 'show proc' answer: {text[:80]!r}")
    return Processes(master, reloads, failed, tuple(workers), tuple(old))
