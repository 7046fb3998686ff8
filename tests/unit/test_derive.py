"""Derivation: manifest × environment × platform → one regional definition per region."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxiway.errors import ValidationFailed
from taxiway.plan import derive, secret_digest
from taxiway.plan.regional import RegionalDefinition, SecretEnv
from taxiway.spec import platform, service_files
from taxiway.spec.inventory import Inventory
from taxiway.spec.problem import Problem
from taxiway.spec.topology import Topology
from tests.conftest import EXAMPLES
from tests.unit import sample_manifest

KEYER = secret_digest.Keyer(b"test key")

# Lines 1-9; extra spec lines start at 10.
BASE = sample_manifest.base("us-east1, europe-west1, asia-northeast3")

INVENTORY = """\
apiVersion: taxiway/v1
kind: Inventory
services:
  - name: hello
    owners: [team-hello]
    regions: [us-east1, europe-west1, asia-northeast3]
    environments: [staging, production]
    quota: {max_instances: 40}
    global_load_balancing: true
"""


def world() -> Topology:
    return platform.load_topology(EXAMPLES / "topology.yaml")


def inventory(tmp_path: Path, text: str = INVENTORY) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return platform.load_inventory(path, world())


def definitions(
    tmp_path: Path,
    extra: str = "",
    *,
    base: str = BASE,
    environment: str = "production",
    listed: Inventory | None = None,
    revision: int | None = None,
) -> dict[str, RegionalDefinition]:
    path = tmp_path / "service.yaml"
    path.write_text(base + extra, encoding="utf-8")
    loaded = service_files.load(service_files.find(path), environment)
    return derive.derive(
        loaded.manifest,
        environment,
        world(),
        listed,
        revision=revision,
        source=loaded.document,
        secret_digest=KEYER,
    )


def problems(tmp_path: Path, extra: str = "", **kw: object) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        definitions(tmp_path, extra, **kw)  # type: ignore[arg-type]
    return list(caught.value.problems)


def test_one_definition_per_region_in_manifest_order(tmp_path: Path) -> None:
    result = definitions(tmp_path)
    assert list(result) == ["us-east1", "europe-west1", "asia-northeast3"]
    assert {d.key for d in result.values()} == {
        ("hello", "production", "us-east1"),
        ("hello", "production", "europe-west1"),
        ("hello", "production", "asia-northeast3"),
    }


def test_defaults_are_filled(tmp_path: Path) -> None:
    spec = definitions(tmp_path)["us-east1"].spec
    assert spec.container_port == 8080
    assert (spec.scalability.min_instances, spec.scalability.max_instances) == (1, 10)
    assert spec.request_timeout == 60.0
    assert spec.resources.memory == 512 * 1024**2
    assert spec.probes.readiness.path == "/health"
    assert spec.deployment.traffic_steps == [10, 50, 100]
    assert spec.load_balancing.global_.fallback_region == "us-east1"
    assert spec.load_balancing.global_.failover_order == ["us-east1", "europe-west1", "asia-northeast3"]
    assert spec.observability.metrics.port == 8080


def test_platform_variables_are_injected(tmp_path: Path) -> None:
    result = definitions(tmp_path, "  container_port: 9000\n  env: {GREETING: hi}\n", revision=7)
    for region, definition in result.items():
        env = definition.spec.env
        assert env["TAXIWAY_REGION"] == region
        assert env["TAXIWAY_ENVIRONMENT"] == "production"
        assert env["TAXIWAY_SERVICE"] == "hello"
        assert env["TAXIWAY_REVISION"] == "7"
        assert env["PORT"] == derive.ASSIGNED_PORT, "the local runtime picks each instance's port"
        assert env["GREETING"] == "hi"
        assert definition.revision == 7


def test_port_is_the_container_port_only_where_a_container_runtime_runs(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text(BASE + "  container_port: 9000\n", encoding="utf-8")
    loaded = service_files.load(service_files.find(path), "production")
    data = world().model_dump(mode="json", by_alias=True)
    data["continents"][0]["regions"][0]["runtime"] = {"driver": "kubernetes"}
    mixed = Topology.model_validate(data)
    kubernetes = next(iter(mixed.regions))
    result = derive.derive(loaded.manifest, "production", mixed, secret_digest=KEYER)
    ports = {region: d.spec.env["PORT"] for region, d in result.items()}
    assert ports.pop(kubernetes) == "9000"
    assert set(ports.values()) == {derive.ASSIGNED_PORT}


def test_environment_comes_from_the_argument(tmp_path: Path) -> None:
    result = definitions(tmp_path, environment="staging")
    assert {d.spec.env["TAXIWAY_ENVIRONMENT"] for d in result.values()} == {"staging"}


def test_secret_values_are_kept_only_as_digests(tmp_path: Path) -> None:
    result = definitions(tmp_path, "  env:\n    TOKEN: {value: hunter2-secret, secret: true}\n")
    token = result["us-east1"].spec.env["TOKEN"]
    assert isinstance(token, SecretEnv)
    assert token.value == "hunter2-secret"
    assert "hunter2-secret" not in result["us-east1"].model_dump_json()


def test_overrides_apply_only_to_their_regions(tmp_path: Path) -> None:
    extra = (
        "  scalability: {min_instances: 2, max_instances: 4}\n"
        "  overrides:\n"
        "    - regions: [europe-west1]\n"
        "      scalability: {min_instances: 3}\n"
        "      env: {EU: 'yes'}\n"
        "    - regions: [asia-northeast3, europe-west1]\n"
        "      resources: {memory: 1Gi}\n"
    )
    result = definitions(tmp_path, extra)
    us, eu, asia = (result[r].spec for r in ("us-east1", "europe-west1", "asia-northeast3"))
    assert (us.scalability.min_instances, eu.scalability.min_instances, asia.scalability.min_instances) == (
        2,
        3,
        2,
    )
    assert eu.scalability.max_instances == 4  # merged, not replaced
    assert (us.resources.memory, eu.resources.memory, asia.resources.memory) == (
        512 * 1024**2,
        1024**3,
        1024**3,
    )
    assert "EU" in eu.env
    assert "EU" not in us.env
    assert "EU" not in asia.env
    assert us.overrides == eu.overrides == []


def test_derivation_is_deterministic(tmp_path: Path) -> None:
    extra = "  env: {B: '2', A: '1', TOKEN: {value: x, secret: true}}\n"
    first = [d.model_dump_json() for d in definitions(tmp_path, extra, revision=3).values()]
    second = [d.model_dump_json() for d in definitions(tmp_path, extra, revision=3).values()]
    assert first == second


def test_unknown_region(tmp_path: Path) -> None:
    text = BASE.replace("asia-northeast3]", "mars-north1]")
    (problem,) = problems(tmp_path, base=text)
    assert problem.path == ("spec", "regions", 2)
    assert problem.found == "mars-north1"
    assert problem.message == "unknown region"
    assert (problem.location.line, problem.location.column) == (9, 37)


def test_capacity_cannot_hold_min_instances(tmp_path: Path) -> None:
    # europe-west1 and asia-northeast3: 2 nodes of 4 CPU each, so 8 instances of 1 CPU at most
    found = problems(tmp_path, "  scalability: {min_instances: 9, max_instances: 9}\n")
    assert [p.message for p in found] == [
        "region asia-northeast3 cannot hold min_instances",
        "region europe-west1 cannot hold min_instances",
    ]
    for problem in found:
        assert problem.path == ("spec", "scalability", "min_instances")
        assert problem.found == "9"
        assert problem.location.line == 10


def test_inventory_allows_the_example(tmp_path: Path) -> None:
    assert len(definitions(tmp_path, listed=inventory(tmp_path))) == 3


def test_without_inventory_every_topology_region_is_allowed(tmp_path: Path) -> None:
    text = BASE.replace("metadata:\n  name: hello", "metadata:\n  name: unlisted")
    assert len(definitions(tmp_path, base=text)) == 3


def test_quota_exceeded(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, "  scalability: {max_instances: 14}\n", listed=inventory(tmp_path))
    assert problem.message == "instance quota exceeded"
    assert problem.path == ("spec", "scalability", "max_instances")
    assert problem.found == "42 max instances across 3 regions"
    assert problem.expected == "at most 40 (inventory quota)"


def test_global_load_balancing_must_be_allowed_by_the_inventory(tmp_path: Path) -> None:
    listed = inventory(
        tmp_path, INVENTORY.replace("global_load_balancing: true", "global_load_balancing: false")
    )
    (problem,) = problems(tmp_path, "  load_balancing:\n    global: {enabled: true}\n", listed=listed)
    assert problem.path == ("spec", "load_balancing", "global", "enabled")
    assert problem.location.line == 11
    assert problem.hint is not None
    assert "`taxiway services update hello --global-load-balancing`" in problem.hint


def test_owner_must_be_listed(tmp_path: Path) -> None:
    text = BASE.replace("owner: team-hello", "owner: mallory")
    (problem,) = problems(tmp_path, base=text, listed=inventory(tmp_path))
    assert problem.path == ("metadata", "owner")
    assert problem.found == "mallory"
    assert problem.location.line == 5


def test_service_must_be_listed(tmp_path: Path) -> None:
    text = BASE.replace("name: hello", "name: unlisted")
    (problem,) = problems(tmp_path, base=text, listed=inventory(tmp_path))
    assert problem.message == "service is not in the inventory"
    # It names the file it read and the command that registers the service instead.
    assert problem.hint is not None
    assert str(tmp_path / "inventory.yaml") in problem.hint
    assert "`taxiway services create unlisted --owner team-hello --regions " in problem.hint
    assert str(tmp_path / "inventory.yaml") in problem.render()


def test_regions_and_environments_must_be_allowed(tmp_path: Path) -> None:
    listed = inventory(
        tmp_path,
        INVENTORY.replace(
            "regions: [us-east1, europe-west1, asia-northeast3]", "regions: [us-east1]"
        ).replace("environments: [staging, production]", "environments: [staging]"),
    )
    found = problems(tmp_path, listed=listed)
    assert sorted(p.field_path for p in found) == ["(document)", "spec.regions[1]", "spec.regions[2]"]
    hints = {p.field_path: p.hint for p in found}
    assert hints["spec.regions[1]"] == (
        f"the platform team allows it in {tmp_path / 'inventory.yaml'} or with "
        "`taxiway services update hello --regions us-east1,europe-west1`"
    )
    assert "`taxiway services update hello --environments staging,production`" in str(hints["(document)"])


def test_all_platform_problems_are_reported_together(tmp_path: Path) -> None:
    text = BASE.replace("owner: team-hello", "owner: mallory").replace("asia-northeast3]", "mars-north1]")
    found = problems(tmp_path, base=text, listed=inventory(tmp_path))
    assert {p.message for p in found} >= {
        "unknown region",
        "owner is not one of the service's owners in the inventory",
    }


def test_capacity_problem_points_at_the_override_that_raised_min_instances(tmp_path: Path) -> None:
    extra = (
        "  overrides:\n"
        "    - regions: [europe-west1]\n"
        "      scalability: {min_instances: 9, max_instances: 9}\n"
    )
    (problem,) = problems(tmp_path, extra)
    assert problem.message == "region europe-west1 cannot hold min_instances"
    assert problem.path == ("spec", "overrides", 0, "scalability", "min_instances")
    assert problem.location.line == 12


def test_an_override_cannot_enable_global_load_balancing_the_inventory_forbids(tmp_path: Path) -> None:
    listed = inventory(
        tmp_path, INVENTORY.replace("global_load_balancing: true", "global_load_balancing: false")
    )
    extra = "  overrides:\n    - regions: [us-east1]\n      load_balancing: {global: {enabled: true}}\n"
    (problem,) = problems(tmp_path, extra, listed=listed)
    assert problem.path == ("spec", "overrides", 0, "load_balancing", "global", "enabled")
    assert problem.location.line == 12
