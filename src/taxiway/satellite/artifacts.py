"""Artifacts on the satellite's disk: downloaded once, verified, extracted safely.

An artifact is a service's directory as the tar.gz uploaded with a revision, named by the
SHA-256 of its bytes. The puller fetches each one its definitions name; the reconciler
uses ``<root>/<hex>/`` as the instances' service directory. Nothing from the archive is
trusted: the bytes must hash to the name they were asked for, and only plain files and
directories with relative names inside the root are extracted (no absolute paths, no
``..``, no links, devices or fifos), within a size and a count cap. Extraction goes to a
temporary directory that is renamed into place, so a crash never leaves half an artifact
where the reconciler would run it. Artifacts are readable by no other user of the machine:
the root and every directory are 0700, every file loses its group and other bits. When
instances are isolated (:mod:`taxiway.runtime.tenancy`), the root is the tenant directory's
``artifacts/`` (0711: traverse only) and each artifact is read-only to a group of its own,
which the instances that run it (and only they) are given.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import threading
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from taxiway.errors import TaxiwayError
from taxiway.runtime import tenancy
from taxiway.wire import feed

SPARE = 2
"""Artifacts no definition or instance uses that are kept anyway, newest first."""
GRACE_SECONDS = 600.0
"""An artifact installed this recently is never collected."""
INCOMING_SECONDS = 3600.0
"""A half-extracted artifact older than this was left by a killed satellite."""


class ArtifactRejected(TaxiwayError):
    """The artifact's bytes are not what was asked for, or not safe to extract."""

    code = "artifact-rejected"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 256 * 1024 * 1024
    """Most bytes all extracted files may add up to (a 16 MiB tar.gz may hold much more)."""
    max_members: int = 20_000


def _private(tree: Path) -> None:
    """Take every group and other permission off ``tree`` (an artifact just extracted)."""
    for directory, _dirs, files in os.walk(tree):
        os.chmod(directory, 0o700)
        for name in files:
            path = os.path.join(directory, name)
            os.chmod(path, os.stat(path).st_mode & 0o700)


def hex_of(digest: str) -> str:
    if not feed.ARTIFACT.match(digest):
        raise ArtifactRejected(f"{digest!r} is not an artifact digest (sha256:<64 hex digits>)")
    return digest.removeprefix("sha256:")


def _checked_members(archive: tarfile.TarFile, digest: str, limits: Limits) -> list[tarfile.TarInfo]:
    members = []
    total = 0
    for member in archive:  # reading member by member bounds the work a gzip bomb can cause
        name = member.name
        path = PurePosixPath(name)
        if not name or "\0" in name or path.is_absolute() or ".." in path.parts:
            raise ArtifactRejected(f"{digest}: refusing member {name!r} (absolute or outside the artifact)")
        if not (member.isfile() or member.isdir()):
            raise ArtifactRejected(f"{digest}: refusing member {name!r} (links and devices are not allowed)")
        total += member.size
        members.append(member)
        if total > limits.max_bytes:
            raise ArtifactRejected(f"{digest}: extracts to more than {limits.max_bytes} bytes")
        if len(members) > limits.max_members:
            raise ArtifactRejected(f"{digest}: holds more than {limits.max_members} files")
    return members


class ArtifactCache:
    """Extracted artifacts under ``root``, one directory each; thread-safe."""

    def __init__(
        self, root: Path, limits: Limits | None = None, isolation: tenancy.Tenancy | None = None
    ) -> None:
        self.root = root
        self._isolation = isolation
        self._limits = limits or Limits()
        self._lock = threading.Lock()
        self._rejected: dict[str, str] = {}

    def directory(self, digest: str) -> Path:
        return self.root / hex_of(digest)

    def present(self, digest: str) -> bool:
        return self.directory(digest).is_dir()

    def install(self, digest: str, data: bytes) -> Path:
        """Verify ``data`` against ``digest`` and extract it; answers its directory."""
        target = self.directory(digest)
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise ArtifactRejected(f"{digest}: the downloaded bytes hash to {actual}")
        with self._lock:
            if target.is_dir():
                return target
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            # 0711 for isolated instances to pass (never to list); else an older satellite's 0755.
            self.root.chmod(0o711 if self._isolation is not None else 0o700)
            incoming = Path(tempfile.mkdtemp(prefix=f".incoming-{target.name[:12]}-", dir=self.root))
            try:
                try:
                    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                        members = _checked_members(archive, digest, self._limits)
                        # The "data" filter is a second line of defence: it also drops
                        # set-uid bits and refuses anything resolving outside ``incoming``.
                        archive.extractall(incoming, members=members, filter="data")
                except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
                    raise ArtifactRejected(f"{digest}: not a readable tar.gz ({exc})") from exc
                _private(incoming)
                if self._isolation is not None:
                    tenancy.grant_read(incoming, self._isolation.artifact_group(target.name))
                os.rename(incoming, target)
            except BaseException:
                shutil.rmtree(incoming, ignore_errors=True)
                raise
        return target

    def collect(self, keep: Collection[str], now: float) -> list[str]:
        """Delete the artifacts (directory names) not in ``keep``, but for the
        :data:`SPARE` most recently installed ones (what a rollback would ask for again)
        and any installed in the last :data:`GRACE_SECONDS` (the puller may have fetched
        one for a definition the reconciler has not read yet). Answers what it deleted."""
        with self._lock:
            try:
                found = [p for p in self.root.iterdir() if p.is_dir()]
            except FileNotFoundError:
                return []
            unused = []
            for path in found:
                age = now - path.stat().st_mtime
                if path.name.startswith(".incoming-"):
                    if age > INCOMING_SECONDS:  # left by a satellite killed mid-extraction
                        shutil.rmtree(path, ignore_errors=True)
                elif path.name not in keep and age > GRACE_SECONDS:
                    unused.append(path)
            unused.sort(key=lambda p: p.stat().st_mtime, reverse=True)
            deleted = []
            for path in unused[SPARE:]:
                shutil.rmtree(path, ignore_errors=True)
                if self._isolation is not None:
                    self._isolation.release_artifact(path.name)
                deleted.append(path.name)
            return deleted

    def rejection(self, digest: str) -> str | None:
        """Why the last download of ``digest`` was refused, if it was."""
        return self._rejected.get(digest)

    def fetch(self, digest: str, download: Callable[[str], bytes]) -> Path:
        """The artifact's directory, downloading it with ``download(digest)`` if needed.

        A refused artifact is remembered (:meth:`rejection`) until a later fetch succeeds;
        errors of ``download`` itself (an unreachable control plane) are not.
        """
        if self.present(digest):
            return self.directory(digest)
        data = download(digest)
        try:
            directory = self.install(digest, data)
        except ArtifactRejected as exc:
            self._rejected[digest] = str(exc)
            raise
        self._rejected.pop(digest, None)
        return directory
