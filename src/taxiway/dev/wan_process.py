"""The dev world's WAN emulator process (``taxiway dev wan --dir DIR``, hidden).

**Development only; never on a production path.** One supervised child of the dev
supervisor. For every link of ``DIR/wan.json`` (:mod:`taxiway.dev.wan`) it listens on
the link's loopback port and relays each connection to the region's ingress, holding
every chunk read in either direction for the link's one-way delay before writing it on,
in order. Chunks are not serialised behind each other's delays: a chunk read at ``t`` is
written at ``t + delay`` (or right after the chunk before it), so the link adds latency,
not a bandwidth limit. End of stream travels the same way; a reset on one side resets
the other, after the delay.

A region that is down must look down to the PoP at the TCP level: HAProxy only marks a
pool down on its first *refused* connection (``observe layer4``), and a relay that
accepts and then hangs up would look like a live server answering nothing. So when a
link cannot reach its target, the relay resets the connection it accepted *and closes
the link's listener*, so the next connect (the PoP's retry, or its next check) is
refused by the kernel; it probes the target every :data:`PROBE_SECONDS` and listens
again once the target accepts. The file is re-read whenever it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

from taxiway.dev import private_file, wan
from taxiway.dev.settings import HOST

log = logging.getLogger(__name__)

READ_BYTES = 64 * 1024
RELOAD_SECONDS = 0.2
PROBE_SECONDS = 0.1
CONNECT_SECONDS = 2.0
_RESET = b""
_EOF = None


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), as a peer that vanished does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, failed: asyncio.Event
) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` seconds late, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if chunk is _EOF:
                if writer.can_write_eof():
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                return
            if chunk == _RESET:
                failed.set()
                return
            try:
                writer.write(chunk)
                await writer.drain()
            except OSError:
                failed.set()
                return

    sender = asyncio.create_task(deliver())
    try:
        while True:
            try:
                chunk = await reader.read(READ_BYTES)
            except OSError:
                queue.put_nowait((loop.time() + delay, _RESET))
                break
            queue.put_nowait((loop.time() + delay, chunk or _EOF))
            if not chunk:
                break
        await sender
    finally:
        sender.cancel()


async def _both(pumps: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*pumps, return_exceptions=True)


@dataclass
class LinkServer:
    """One link: its listener (while its target is reachable) and its settings."""

    link: wan.Link
    server: asyncio.Server | None = None
    probing: asyncio.Task[None] | None = None
    connections: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.link.pop}->{self.link.region}"

    async def listen(self) -> None:
        if self.server is not None:
            return
        try:
            self.server = await asyncio.start_server(
                self._accepted, HOST, self.link.port, reuse_address=True, backlog=128
            )
        except OSError as exc:
            log.error("link %s cannot listen on %s:%d: %s", self.name, HOST, self.link.port, exc)

    def deafen(self) -> None:
        """Close the listener: connects are refused until the target answers again."""
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.probing is None or self.probing.done():
            self.probing = asyncio.create_task(self._probe())

    async def _probe(self) -> None:
        while self.server is None:
            target = self.link.target
            if target is not None:
                try:
                    _, writer = await asyncio.wait_for(asyncio.open_connection(*target), CONNECT_SECONDS)
                except (OSError, TimeoutError):
                    pass
                else:
                    writer.close()
                    log.info("link %s: %s:%d answers again; listening", self.name, *target)
                    await self.listen()
                    return
            await asyncio.sleep(PROBE_SECONDS)

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._relay(reader, writer))
        self.connections.add(task)
        task.add_done_callback(self.connections.discard)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = self.link
        if link.target is None:
            self.deafen()
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*link.target), CONNECT_SECONDS
            )
        except (OSError, TimeoutError) as exc:
            # Listener first, then the reset: the PoP's retry must find the link refusing.
            log.info("link %s: %s:%d unreachable (%s); refusing", self.name, *link.target, exc)
            self.deafen()
            _reset(writer)
            return
        for stream in (writer, up_writer):
            sock = stream.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        delay = link.delay_ms / 1000.0
        failed = asyncio.Event()
        pumps = [
            asyncio.create_task(_pump(reader, up_writer, delay, failed)),
            asyncio.create_task(_pump(up_reader, writer, delay, failed)),
        ]
        watcher = asyncio.create_task(failed.wait())
        both = asyncio.create_task(_both(pumps))
        try:
            await asyncio.wait([watcher, both], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*pumps, watcher, both):
                task.cancel()
            if failed.is_set():
                _reset(writer)
                _reset(up_writer)
            else:
                writer.close()
                up_writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.probing is not None:
            self.probing.cancel()
        for task in list(self.connections):
            task.cancel()


class Emulator:
    """Every link of one ``wan.json``, kept in step with the file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._links: dict[tuple[str, str], LinkServer] = {}
        self._seen: tuple[float, int] | None = None

    def _changed(self) -> bool:
        try:
            info = os.stat(self._path)
        except FileNotFoundError:
            return False
        stamp = (info.st_mtime, info.st_size)
        if stamp == self._seen:
            return False
        self._seen = stamp
        return True

    async def sync(self) -> None:
        if not self._changed():
            return
        wanted = {(link.pop, link.region): link for link in wan.parse(private_file.read_json(self._path))}
        for key in [k for k in self._links if k not in wanted]:
            self._links.pop(key).close()
        for key, link in wanted.items():
            current = self._links.get(key)
            if current is not None and current.link.port != link.port:
                current.close()
                current = None
            if current is None:
                current = self._links[key] = LinkServer(link)
                if link.target is None:
                    current.deafen()  # refuses until the region's ingress is known and answers
                else:
                    await current.listen()
                log.info(
                    "link %s on %s:%d -> %s, %.1f ms each way",
                    current.name,
                    HOST,
                    link.port,
                    link.target,
                    link.delay_ms,
                )
            elif current.link != link:
                current.link = link  # new connections use the new target and delay
                log.info("link %s -> %s, %.1f ms each way", current.name, link.target, link.delay_ms)
                if current.server is None and (current.probing is None or current.probing.done()):
                    current.deafen()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sync()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RELOAD_SECONDS)
        for server in self._links.values():
            server.close()


def serve(path: Path) -> None:
    """Run the emulator on ``path`` until SIGTERM or SIGINT."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        log.info("WAN emulator (development only) reading %s", path)
        await Emulator(path).run(stop)

    asyncio.run(main())
