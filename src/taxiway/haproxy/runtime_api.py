"""A client for HAProxy's runtime API (the admin stats socket), with typed helpers.

The satellite uses it to admit, drain and remove instances without a reload; the edge
process to read check results (health and RTT) and to save server state before a reload.
Every command is one connection: send the line, half-close, read to EOF. That costs a
connect per command but never leaves a half-read answer on a shared connection after a
timeout, and it is how HAProxy's non-interactive mode is meant to be used.

HAProxy 2.6 answers most changes with silence on success and a sentence on failure,
and a few with a sentence either way; each helper knows which, and any other answer
raises :class:`~taxiway.haproxy.errors.RuntimeApiError` carrying HAProxy's message.
Names pass through :mod:`taxiway.plan.haproxy.tokens`: the API splits commands on ``;`` and
newlines, so an unchecked name could smuggle in a second command.

The socket sits behind :class:`Transport`, so tests of answer handling can use
:class:`ScriptedTransport` and the one real test of the path uses a real HAProxy.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal, Protocol

from taxiway.haproxy.errors import RuntimeApiError, RuntimeApiUnavailable, ServerBusy
from taxiway.plan.haproxy import answers, tokens
from taxiway.plan.haproxy.tokens import UnsafeValue

ServerAdminState = Literal["ready", "drain", "maint"]
ServerHealth = Literal["up", "stopping", "down"]


class Transport(Protocol):
    def send(self, command: str) -> str:
        """Run one command and return HAProxy's whole answer."""
        ...


class UnixSocketTransport:
    """One connection per command to a unix stream socket (the stats or master socket)."""

    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout

    def send(self, command: str) -> str:
        chunks: list[bytes] = []
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.path))
                sock.sendall(command.encode() + b"\n")
                # The master CLI keeps a connection open until the client half-closes it.
                sock.shutdown(socket.SHUT_WR)
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise RuntimeApiUnavailable(f"HAProxy runtime API at {self.path}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")


class ScriptedTransport:
    """An in-memory transport answering from a function; records every command sent."""

    def __init__(self, answer: Callable[[str], str]) -> None:
        self.answer = answer
        self.sent: list[str] = []

    def send(self, command: str) -> str:
        self.sent.append(command)
        return self.answer(command)


def _target(backend: str, server: str) -> str:
    return f"{tokens.object_name(backend, 'backend')}/{tokens.object_name(server, 'server')}"


class RuntimeApi:
    """Typed commands over a :class:`Transport`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def unix(cls, path: Path, *, timeout: float = 5.0) -> RuntimeApi:
        return cls(UnixSocketTransport(path, timeout=timeout))

    def execute(self, command: str) -> str:
        """Send one raw command; refuses anything that would be read as several."""
        if any(char in command for char in ";\n\r\0"):
            raise UnsafeValue(f"runtime API command {command!r} holds a command separator")
        return self.transport.send(command)

    def _silent(self, command: str) -> None:
        answer = self.execute(command).strip()
        if answer:
            raise RuntimeApiError(command, answer)

    def _expect(self, command: str, success: Iterable[str]) -> str:
        answer = self.execute(command).strip()
        if not any(answer.startswith(prefix) for prefix in success):
            raise RuntimeApiError(command, answer or "(no answer)")
        return answer

    # -- reading

    def show_info(self) -> dict[str, str]:
        answer = self.execute("show info")
        info = answers.parse_info(answer)
        if "Pid" not in info:
            raise RuntimeApiError("show info", answer.strip())
        return info

    def show_stat(self, proxy: str | None = None) -> tuple[answers.StatRow, ...]:
        """Every frontend, backend and server, or one proxy's rows."""
        command = "show stat" if proxy is None else f"show stat {tokens.object_name(proxy, 'proxy')} -1 -1"
        answer = self.execute(command)
        if not answer.startswith("# "):
            raise RuntimeApiError(command, answer.strip())
        return answers.parse_stat(answer)

    def servers(self, backend: str) -> dict[str, answers.StatRow]:
        """The servers of one backend by name, as ``show stat`` reports them."""
        return {row.name: row for row in self.show_stat(backend) if row.kind is answers.ProxyKind.SERVER}

    def current_sessions(self, backend: str, server: str) -> int:
        """``scur``: connections the server is handling now (what a drain waits for)."""
        row = self.servers(backend).get(server)
        if row is None:
            raise RuntimeApiError(f"show stat {backend}", f"no server {server!r} in backend {backend!r}")
        return row.current_sessions

    def dump_servers_state(self, backend: str | None = None) -> str:
        """The raw ``show servers state`` text: exactly what a server-state file holds."""
        command = "show servers state"
        if backend is not None:
            command += f" {tokens.object_name(backend, 'backend')}"
        answer = self.execute(command)
        if not answer.startswith("1\n"):
            raise RuntimeApiError(command, answer.strip())
        return answer

    def show_servers_state(self, backend: str | None = None) -> tuple[answers.ServerState, ...]:
        return answers.parse_servers_state(self.dump_servers_state(backend))

    # -- changing one server

    def set_server_state(self, backend: str, server: str, state: ServerAdminState) -> None:
        """``ready`` takes traffic; ``drain`` takes no new traffic but keeps its connections
        and checks; ``maint`` takes nothing and is not checked (and may then be deleted)."""
        if state not in ("ready", "drain", "maint"):
            raise UnsafeValue(f"server state {state!r} is not ready, drain or maint")
        self._silent(f"set server {_target(backend, server)} state {state}")

    def set_server_health(self, backend: str, server: str, health: ServerHealth) -> None:
        if health not in ("up", "stopping", "down"):
            raise UnsafeValue(f"server health {health!r} is not up, stopping or down")
        self._silent(f"set server {_target(backend, server)} health {health}")

    def set_server_addr(self, backend: str, server: str, host: str, port: int) -> None:
        address = tokens.ip_address(host)
        number = tokens.port(port)
        self._expect(
            f"set server {_target(backend, server)} addr {address} port {number}",
            ("IP changed from", "no need to change", "port changed from"),
        )

    def set_weight(self, backend: str, server: str, weight: int) -> None:
        self._silent(f"set weight {_target(backend, server)} {tokens.bounded_int(weight, 0, 256, 'weight')}")

    def enable_health(self, backend: str, server: str) -> None:
        self._silent(f"enable health {_target(backend, server)}")

    def disable_health(self, backend: str, server: str) -> None:
        self._silent(f"disable health {_target(backend, server)}")

    # -- maps

    def set_map_entry(self, map_file: Path, key: str, value: str, *, new: bool) -> None:
        """Set ``key`` in a map the config loads (``new``: it has no entry yet). Only the
        running workers see it; whoever reloads must write the file too."""
        target = tokens.file_path(map_file, "map file")
        verb = "add" if new else "set"
        self._silent(f"{verb} map {target} {tokens.map_key(key)} {tokens.http_path(value, 'map value')}")

    def del_map_entry(self, map_file: Path, key: str) -> None:
        target = tokens.file_path(map_file, "map file")
        answer = self.execute(f"del map {target} {tokens.map_key(key)}")
        if answer.strip() and "not found" not in answer.lower():
            raise RuntimeApiError(f"del map {target} {key}", answer.strip())

    def shutdown_sessions(self, backend: str, server: str) -> None:
        """Close every connection the server still has (the end of a drain's grace)."""
        self._silent(f"shutdown sessions server {_target(backend, server)}")

    # -- membership

    def add_server(
        self, backend: str, server: str, host: str, port: int, options: Sequence[str] = ()
    ) -> None:
        """Add a server and put it in service.

        HAProxy creates a dynamic server in maintenance with its checks off; this turns
        both on. The backend must use a dynamic algorithm (``roundrobin``, ``leastconn``)
        and the server inherits nothing from ``default-server``, so ``options`` must say
        everything (see :func:`taxiway.plan.haproxy.config.instance_options`). A server added
        here is gone after a reload unless the new config declares it too.
        """
        for option in options:
            if not option or any(char.isspace() for char in option):
                raise UnsafeValue(f"server option {option!r} is not a single word")
        target = _target(backend, server)
        address = tokens.endpoint(host, port, f"server {server}")
        command = f"add server {target} {address} {' '.join(options)}".rstrip()
        self._expect(command, ("New server registered",))
        if "check" in options:
            self.enable_health(backend, server)
        self.set_server_state(backend, server, "ready")

    def del_server(self, backend: str, server: str) -> None:
        """Remove a server: it must be in ``maint`` with no connection or queue left.

        Raises :class:`ServerBusy` (retryable) while connections remain, so a caller
        draining an instance can retry until the grace period ends.
        """
        command = f"del server {_target(backend, server)}"
        answer = self.execute(command).strip()
        if answer.startswith("Server deleted"):
            return
        if "connection" in answer.lower() or "queue" in answer.lower():
            raise ServerBusy(command, answer)
        raise RuntimeApiError(command, answer or "(no answer)")
