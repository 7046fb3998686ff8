"""From a regional definition to an instance spec: secrets resolved, platform env on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxiway import errors
from taxiway.plan import regional, secret_digest
from taxiway.plan.region import instance_spec
from taxiway.runtime import driver
from taxiway.spec import manifest

KEYER = secret_digest.Keyer(b"test key")


def secret(value: str) -> regional.SecretEnv:
    return regional.SecretEnv.of(
        value, KEYER(secret_digest.SecretValue("hello", "production", "API_TOKEN", value))
    )


def definition(secret: regional.SecretEnv, working_dir: str | None = "srv") -> regional.RegionalDefinition:
    return regional.RegionalDefinition(
        service="hello",
        environment="production",
        region="us-east1",
        revision=4,
        metadata=manifest.Metadata(name="hello", owner="team-hello"),
        spec=regional.RegionalSpec(
            run=manifest.Run(command=["python3", "app.py"], working_dir=working_dir),
            regions=["us-east1"],
            env={"GREETING": "hello", "PORT": "8080", "API_TOKEN": secret},
        ),
    )


def test_spec_for_resolves_secrets_and_the_working_directory() -> None:
    spec = instance_spec.spec_for(
        definition(secret("s3cret")),
        instance_id="hello-us-east1-0",
        datacenter="us-east1-b",
        node="node-1",
        service_dir=Path("/srv/hello"),
    )
    assert spec.argv == ("python3", "app.py")
    assert spec.cwd == Path("/srv/hello/srv")
    assert spec.env["API_TOKEN"] == "s3cret"
    env = driver.platform_env(spec, 41234)
    assert env["PORT"] == "41234"
    assert env["TAXIWAY_REVISION"] == "4"
    assert env["TAXIWAY_INSTANCE"] == "hello-us-east1-0"


def test_a_secret_without_its_value_is_a_configuration_error() -> None:
    digest_only = regional.SecretEnv(digest=secret("s3cret").digest)
    with pytest.raises(errors.ConfigurationError, match="API_TOKEN"):
        instance_spec.spec_for(
            definition(digest_only), instance_id="a", datacenter="b", node="c", service_dir=Path("/srv/hello")
        )


def test_the_digest_changes_with_what_would_run() -> None:
    base = instance_spec.spec_for(
        definition(secret("one")),
        instance_id="a",
        datacenter="b",
        node="c",
        service_dir=Path("/"),
    )
    rotated = instance_spec.spec_for(
        definition(secret("two")),
        instance_id="a",
        datacenter="b",
        node="c",
        service_dir=Path("/"),
    )
    assert (
        base.digest()
        == instance_spec.spec_for(
            definition(secret("one")),
            instance_id="a",
            datacenter="b",
            node="c",
            service_dir=Path("/"),
        ).digest()
    )
    assert base.digest() != rotated.digest()
    assert "one" not in base.digest()
