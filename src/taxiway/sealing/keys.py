"""Keys that seal secret env values at rest, and the sealing itself (Fernet).

A key file holds one or more keys, one per line, newest first: the first seals, any of
them unseals, so a key can be rotated by putting a new one on top. The file is created
with mode 0600 and never printed; a key file readable by others is refused.

A sealer also makes *keyed digests* (:mod:`taxiway.plan.secret_digest`: HMAC-SHA256 of a
value with its service, environment and name, under a key derived from the newest key):
what owners and plans see of every secret value. Unlike a bare SHA-256, a keyed digest
does not let anyone without the key guess a short secret, and equal values in two
services digest apart. Rotating the key (a new one on top) changes the digests made from
then on: a service deployed again unchanged gets a new revision once, and its instances
roll. The same key files, labelled ``local-hmac-sha256:``, key the digests of commands that
run without a control plane (``taxiway render``).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from taxiway.errors import ConfigurationError
from taxiway.plan import secret_digest


class Sealer:
    """Seals and unseals short strings (secret env values) with the keys of one key file."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigurationError("a key file needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        # A key of its own for digests, so a digest never reveals anything about the sealing key.
        self._digest_key = hashlib.sha256(b"taxiway keyed digest\0" + keys[0]).digest()

    @classmethod
    def generate(cls) -> Sealer:
        return cls([Fernet.generate_key()])

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> Sealer:
        """Load ``path``; with ``create``, write a new key there first if it does not exist."""
        if create and not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first: use theirs
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(Fernet.generate_key() + b"\n")
        try:
            mode = path.stat().st_mode
            text = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"{path}: cannot read the key file ({exc.strerror})") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(
                f"{path}: the key file must not be readable by others (chmod 600 {path})"
            )
        keys = [line.strip() for line in text.splitlines() if line.strip()]
        try:
            return cls(keys)
        except ValueError as exc:
            raise ConfigurationError(f"{path}: not a key file (one base64 Fernet key per line)") from exc

    def keyer(self, label: str = secret_digest.CONTROL_PLANE) -> secret_digest.Keyer:
        """Keyed digests of secret values under this file's digest key."""
        return secret_digest.Keyer(self._digest_key, label)

    def keyed_digest(self, secret: secret_digest.SecretValue) -> str:
        """``hmac-sha256:<hex>`` of ``secret``'s value, service, environment and name."""
        return self.keyer()(secret)

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def unseal(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise ConfigurationError("a sealed secret does not open with this key file's keys") from exc
