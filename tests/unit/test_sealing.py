"""Sealing secret env values at rest: keys, rotation, and definition documents."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from taxiway.errors import ConfigurationError
from taxiway.sealing.definitions import seal_values, strip_values, unseal_values
from taxiway.sealing.keys import Sealer

DEFINITION = {
    "service": "hello",
    "spec": {
        "env": {
            "GREETING": "hello",
            "API_TOKEN": {"secret": True, "digest": "sha256:" + "0" * 64, "value": "s3cret"},
        }
    },
}


def test_a_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "server.key"
    sealer = Sealer.from_file(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = sealer.seal("s3cret")
    assert "s3cret" not in sealed
    assert Sealer.from_file(path, create=True).unseal(sealed) == "s3cret"


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    Sealer.from_file(path, create=True)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        Sealer.from_file(path)


def test_rotation_seals_with_the_newest_key_and_opens_with_any(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    Sealer.from_file(path, create=True)
    old_key = path.read_bytes().strip()
    sealed_before = Sealer.from_file(path).seal("v1")
    new_key = Fernet.generate_key()
    path.write_bytes(new_key + b"\n" + old_key + b"\n")
    rotated = Sealer.from_file(path)
    assert rotated.unseal(sealed_before) == "v1"
    assert Fernet(new_key).decrypt(rotated.seal("v2").encode()) == b"v2"


def test_definitions_are_sealed_unsealed_and_stripped_without_mutation() -> None:
    sealer = Sealer.generate()
    sealed = seal_values(DEFINITION, sealer)
    secret = sealed["spec"]["env"]["API_TOKEN"]
    assert "value" not in secret
    assert "s3cret" not in str(sealed)
    assert DEFINITION["spec"]["env"]["API_TOKEN"]["value"] == "s3cret", "the argument was modified"  # type: ignore[index]
    assert unseal_values(sealed, sealer) == DEFINITION
    stripped = strip_values(sealed)
    assert stripped["spec"]["env"]["API_TOKEN"] == {"secret": True, "digest": "sha256:" + "0" * 64}
    assert stripped["spec"]["env"]["GREETING"] == "hello"
    with pytest.raises(ConfigurationError, match="does not open"):
        unseal_values(sealed, Sealer.generate())


def test_keyed_digests_name_a_value_without_revealing_it() -> None:
    sealer = Sealer.generate()
    digest = sealer.keyed_digest("s3cret")
    assert digest.startswith("hmac-sha256:")
    assert len(digest) == len("hmac-sha256:") + 64
    assert digest == sealer.keyed_digest("s3cret")
    assert digest != sealer.keyed_digest("s3cret2")
    assert Sealer.generate().keyed_digest("s3cret") != digest, "without the key a digest cannot be guessed"
    assert digest.removeprefix("hmac-sha256:") != hashlib.sha256(b"s3cret").hexdigest()
