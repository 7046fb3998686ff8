"""Who an owner's instance runs as: a user of its own per service, never the platform's.

An instance is an untrusted tenant. Run as the satellite's user it could read every token,
key and database the platform keeps; so, when the satellite runs as root, the ``local``
driver starts each instance as a *dynamic user* allocated for its service, in the way
systemd's ``DynamicUser=`` does: a uid (and a group with the same number) taken from
:data:`FIRST_ID`..:data:`LAST_ID`, recorded in a registry file, with no entry in
``/etc/passwd`` to create or clean up. Why per service rather than per instance: the
instances of one service share its code and are one owner's, while two services are two
owners who must not read each other's homes; and the number stays the same across restarts
and re-adoption, so files an instance left in its home stay its own.

What an instance can reach lives in the *tenant directory*, apart from the platform's state
(which stays 0700 and the platform's own)::

    <tenant_dir>/                     0711 root: traverse only, nothing to list
    <tenant_dir>/homes/<instance>/    the instance's HOME, 0700, owned by its service's user
    <tenant_dir>/artifacts/<hex>/     an artifact, root-owned and read-only, group-readable
                                      by that artifact's own group (:meth:`Tenancy.artifact_group`)

An artifact gets a group of its own rather than its service's: two services may upload the
very same bytes, and each instance gets the groups of the artifact it runs (supplementary,
so it reads its code and cannot change it), never another service's.

The registry (``users.json``) must be shared by every satellite on one machine, so two
services never get one number: the dev world keeps one per world, a platform one per
machine (``--users-file``).
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import hashlib
import os
import pwd
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from taxiway.errors import ConfigurationError
from taxiway.runtime import statefile

FIRST_ID = 61184
LAST_ID = 65519
"""systemd's range for dynamic users: no distribution gives these numbers to anyone."""

HOMES = "homes"
ARTIFACTS = "artifacts"


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int


def _taken_by_the_system(number: int) -> bool:
    try:
        pwd.getpwuid(number)
        return True
    except KeyError:
        pass
    try:
        grp.getgrgid(number)
        return True
    except KeyError:
        return False


class IdRegistry:
    """Numbers from the dynamic range, by key, in a JSON file shared across processes."""

    def __init__(self, path: Path, first: int = FIRST_ID, last: int = LAST_ID) -> None:
        self.path = path
        self._first, self._last = first, last

    @contextlib.contextmanager
    def _held(self) -> Iterator[dict[str, int]]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            document = statefile.read(self.path) or {}
            ids = {k: v for k, v in document.get("ids", {}).items() if isinstance(v, int)}
            before = dict(ids)
            yield ids
            if ids != before:
                statefile.write(self.path, {"ids": ids})
                os.chmod(self.path, 0o600)

    def allocate(self, key: str) -> int:
        """The number ``key`` has, or the lowest free one, recorded before it is answered."""
        with self._held() as ids:
            if key in ids:
                return ids[key]
            used = set(ids.values())
            for number in range(self._first, self._last + 1):
                if number not in used and not _taken_by_the_system(number):
                    ids[key] = number
                    return number
        raise ConfigurationError(
            f"{self.path}: every id from {self._first} to {self._last} is taken; remove unused entries"
        )

    def release(self, key: str) -> None:
        with self._held() as ids:
            ids.pop(key, None)


def require_reachable(directory: Path) -> None:
    """Every directory above ``directory`` must let other users pass (``o+x``), or an
    instance could not reach its own home and code."""
    for parent in reversed(directory.absolute().parents):
        try:
            mode = parent.stat().st_mode
        except FileNotFoundError:
            return  # made below, 0711
        if not mode & stat.S_IXOTH:
            raise ConfigurationError(
                f"--tenant-dir {directory}: instances cannot reach it, {parent} is "
                f"{stat.filemode(mode)} (other users may not pass); choose a directory under one they "
                f"may pass, such as /var/lib/taxiway/tenants, or run 'chmod o+x {parent}'"
            )


def default_tenant_dir(state_dir: Path) -> Path:
    """Where a satellite's tenant directory goes unless told: one per state directory."""
    tag = hashlib.sha256(os.fsencode(state_dir.absolute())).hexdigest()[:16]
    return Path("/var/lib/taxiway/tenants") / tag


def _passable(directory: Path) -> None:
    directory.mkdir(mode=0o711, parents=True, exist_ok=True)
    os.chown(directory, 0, 0)
    directory.chmod(0o711)


class Tenancy:
    """The identities and the tenant directory of one satellite; see the module docstring."""

    def __init__(self, registry: IdRegistry, root: Path) -> None:
        self.registry = registry
        self.root = root

    @property
    def artifacts_dir(self) -> Path:
        return self.root / ARTIFACTS

    def prepare(self) -> None:
        """Make the tenant directory (root-owned, traverse only); refuse one out of reach."""
        require_reachable(self.root)
        for parent in reversed(self.root.absolute().parents):
            if not parent.exists():
                _passable(parent)
        for directory in (self.root, self.root / HOMES, self.artifacts_dir):
            _passable(directory)

    def identity(self, service: str) -> Identity:
        number = self.registry.allocate(f"service:{service}")
        return Identity(number, number)

    def home(self, instance_id: str, identity: Identity) -> Path:
        """The instance's HOME: made (or taken back) for its service's user, 0700."""
        home = self.root / HOMES / instance_id
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(home, identity.uid, identity.gid)
        home.chmod(0o700)
        return home

    def forget_home(self, instance_id: str) -> None:
        shutil.rmtree(self.root / HOMES / instance_id, ignore_errors=True)

    def artifact_group(self, name: str) -> int:
        return self.registry.allocate(f"artifact:{name}")

    def release_artifact(self, name: str) -> None:
        self.registry.release(f"artifact:{name}")

    def groups_for(self, cwd: Path | None) -> list[int]:
        """The artifact group an instance running in ``cwd`` needs to read its code."""
        if cwd is None:
            return []
        try:
            cwd.absolute().relative_to(self.artifacts_dir.absolute())
            gid = cwd.stat().st_gid
        except (ValueError, OSError):
            return []
        return [gid] if FIRST_ID <= gid <= LAST_ID else []


def grant_read(tree: Path, gid: int) -> None:
    """``tree`` (just extracted, root's): read-only for group ``gid``, nothing for others."""
    for directory, _dirs, files in os.walk(tree):
        os.chown(directory, 0, gid)
        os.chmod(directory, 0o750)
        for name in files:
            path = os.path.join(directory, name)
            owner = os.stat(path).st_mode & 0o700
            os.chown(path, 0, gid)
            os.chmod(path, owner | ((owner >> 3) & 0o050))


def effective_isolation(choice: str) -> bool:
    """``--isolation``: ``auto`` isolates when the satellite may (it runs as root)."""
    if choice == "user" and os.geteuid() != 0:
        raise ConfigurationError(
            "--isolation user: the satellite must run as root to start instances as other users"
        )
    return choice == "user" or (choice == "auto" and os.geteuid() == 0)
