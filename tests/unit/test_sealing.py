"""Sealing secret env values at rest: keys, rotation, and definition documents."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from taxiway.errors import ConfigurationError
from taxiway.plan.secret_digest import SecretValue
from taxiway.sealing.definitions import seal_values, shown, strip_values, unseal_values
from taxiway.sealing.keys import Sealer

DEFINITION = {
    "service": "hello",
    "environment": "production",
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
    secret = SecretValue("hello", "production", "API_TOKEN", "s3cret")
    digest = sealer.keyed_digest(secret)
    assert digest.startswith("hmac-sha256:")
    assert len(digest) == len("hmac-sha256:") + 64
    assert digest == sealer.keyed_digest(SecretValue("hello", "production", "API_TOKEN", "s3cret"))
    assert digest != sealer.keyed_digest(SecretValue("hello", "production", "API_TOKEN", "s3cret2"))
    assert Sealer.generate().keyed_digest(secret) != digest, "without the key a digest cannot be guessed"
    assert digest.removeprefix("hmac-sha256:") != hashlib.sha256(b"s3cret").hexdigest()
    assert "s3cret" not in repr(secret)


def test_equal_values_digest_apart_in_two_services_names_and_environments() -> None:
    sealer = Sealer.generate()
    digests = {
        sealer.keyed_digest(SecretValue(service, environment, name, "hunter2"))
        for service in ("hello", "greeter")
        for environment in ("staging", "production")
        for name in ("API_TOKEN", "DB_PASSWORD")
    }
    assert len(digests) == 8


def test_an_answer_shows_a_revision_stored_with_a_bare_digest_keyed() -> None:
    """Revisions stored before keyed digests carry sha256(value): the API never shows it."""
    sealer = Sealer.generate()
    bare = "sha256:" + hashlib.sha256(b"s3cret").hexdigest()
    stored = seal_values(
        {**DEFINITION, "spec": {"env": {"API_TOKEN": {"secret": True, "digest": bare, "value": "s3cret"}}}},
        sealer,
    )
    answered = shown(stored, sealer)["spec"]["env"]["API_TOKEN"]
    assert answered == {
        "secret": True,
        "digest": sealer.keyed_digest(SecretValue("hello", "production", "API_TOKEN", "s3cret")),
    }
    keyed = seal_values(DEFINITION | {"spec": {"env": {"API_TOKEN": answered | {"value": "s3cret"}}}}, sealer)
    assert shown(keyed, sealer) == strip_values(keyed), "keyed digests are shown as stored"
