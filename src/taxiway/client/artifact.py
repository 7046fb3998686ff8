"""A service's directory as a deterministic tar.gz: the artifact uploaded with a revision.

``taxiway deploy`` calls :func:`build`. The same directory content always gives the same
bytes (names sorted, modification times zero, no owners, fixed modes, a gzip header
without name or time), so deploying unchanged files again finds the existing revision
instead of making a new one. Version-control data, caches, virtual environments and
``node_modules`` are left out; symbolic links are stored as links, never followed.

The manifest files are left out too (``.taxiway/`` at the top, and any manifest file the
caller names): they travel separately, and their ``secret: true`` values must never sit
in an artifact, which every region keeps on disk and owners may download.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from taxiway.errors import InvalidInput

MAX_BYTES = 16 * 1024 * 1024
"""The control plane refuses larger artifacts (docs/protocol.md)."""
EXCLUDED = frozenset({".git", "__pycache__", ".venv", "node_modules"})
MANIFEST_DIR = ".taxiway"
"""Left out at the top of the service directory: manifests travel beside the artifact."""


class ArtifactTooLarge(InvalidInput):
    """The compressed service directory is over the upload limit."""

    code = "artifact-too-large"


@dataclass(frozen=True)
class Artifact:
    data: bytes
    digest: str
    """``sha256:<hex>`` of ``data``, as the control plane names it."""
    files: int


def _entries(root: Path, leave_out: frozenset[str]) -> list[tuple[str, Path]]:
    """Every path under ``root`` to archive, as (archive name, path), in sorted order;
    ``leave_out`` names paths relative to ``root`` (``a/b.yaml``) not to archive."""
    found: list[tuple[str, Path]] = []

    def walk(directory: Path, prefix: str) -> None:
        try:
            children = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            raise InvalidInput(f"cannot list {directory}: {exc.strerror}") from exc
        for entry in children:
            if entry.name in EXCLUDED:
                continue
            name = f"{prefix}{entry.name}"
            if name in leave_out:
                continue
            path = Path(entry.path)
            found.append((name, path))
            if entry.is_dir(follow_symlinks=False):
                walk(path, name + "/")

    walk(root, "")
    return found


def _member(name: str, path: Path) -> tarfile.TarInfo | None:
    """The tar header for ``path`` with everything that varies between machines zeroed."""
    info = tarfile.TarInfo(name)
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
        info.mode = 0o777
    elif stat.S_ISDIR(mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif stat.S_ISREG(mode):
        info.size = path.lstat().st_size
        info.mode = 0o755 if mode & stat.S_IXUSR else 0o644
    else:
        return None  # sockets, FIFOs and devices are not part of a service's files
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _too_large(root: Path, detail: str) -> ArtifactTooLarge:
    return ArtifactTooLarge(
        f"{root}: the service directory is too large to upload ({detail}; the limit is "
        f"{MAX_BYTES // (1024 * 1024)} MiB compressed); move large files out of it or into "
        f"one of the left-out directories ({', '.join(sorted(EXCLUDED))})"
    )


def build(root: Path, *, limit: int = MAX_BYTES, manifests: Iterable[Path] = ()) -> Artifact:
    """Archive ``root`` without ``.taxiway/`` and without ``manifests`` (the manifest files,
    wherever they are under ``root``); :class:`ArtifactTooLarge` as soon as the compressed
    size passes ``limit``."""
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory")
    leave_out = {MANIFEST_DIR}
    for path in manifests:
        with contextlib.suppress(ValueError):  # a manifest outside root is not archived anyway
            leave_out.add(path.resolve().relative_to(root.resolve()).as_posix())
    buffer = io.BytesIO()
    count = 0
    # filename="" and mtime=0 keep the gzip header identical from one run to the next.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name, path in _entries(root, frozenset(leave_out)):
            try:
                info = _member(name, path)
                if info is None:
                    continue
                if info.isreg():
                    with path.open("rb") as content:
                        archive.addfile(info, content)
                    count += 1
                else:
                    archive.addfile(info)
            except OSError as exc:
                raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
            if buffer.tell() > limit:
                raise _too_large(root, f"over {buffer.tell()} bytes after {name}")
    data = buffer.getvalue()
    if len(data) > limit:
        raise _too_large(root, f"{len(data)} bytes")
    return Artifact(data, "sha256:" + hashlib.sha256(data).hexdigest(), count)
