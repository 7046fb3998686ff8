"""Every manifest rule, schema-level and semantic: each problem located and explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxiway.errors import ValidationFailed
from taxiway.spec import manifest, service_files
from taxiway.spec.manifest import Manifest
from taxiway.spec.problem import Problem
from tests.unit import sample_manifest

# Lines 1-9; anything a test adds under spec starts at line 10.
BASE = sample_manifest.base("us-east1, europe-west1")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "service.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, extra: str = "", *, base: str = BASE) -> Manifest:
    files = service_files.find(write(tmp_path, base + extra))
    return service_files.load(files, "production").manifest


def problems(tmp_path: Path, extra: str = "", *, base: str = BASE) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        load(tmp_path, extra, base=base)
    return list(caught.value.problems)


def only(tmp_path: Path, extra: str = "", *, base: str = BASE) -> Problem:
    found = problems(tmp_path, extra, base=base)
    assert len(found) == 1, [p.render() for p in found]
    return found[0]


def test_the_base_manifest_is_valid(tmp_path: Path) -> None:
    manifest = load(tmp_path)
    assert manifest.spec.regions == ["us-east1", "europe-west1"]
    assert manifest.spec.container_port == 8080


def test_unknown_field_names_file_line_column_and_suggests(tmp_path: Path) -> None:
    problem = only(tmp_path, "  scalabilty:\n    min_instances: 2\n")
    assert problem.location.file == str(tmp_path / "service.yaml")
    assert (problem.location.line, problem.location.column) == (10, 3)
    assert problem.path == ("spec", "scalabilty")
    assert problem.message == "unknown field"
    assert problem.hint == "did you mean 'scalability'?"
    rendered = problem.render()
    assert rendered.endswith("service.yaml:10:3: spec.scalabilty: unknown field; did you mean 'scalability'?")


def test_unknown_nested_field_suggests_a_sibling(tmp_path: Path) -> None:
    problem = only(tmp_path, "  scalability:\n    min_instanse: 2\n")
    assert problem.path == ("spec", "scalability", "min_instanse")
    assert (problem.location.line, problem.location.column) == (11, 5)
    assert problem.hint == "did you mean 'min_instances'?"


def test_unknown_field_without_a_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    problem = only(tmp_path, "zzz: 1\n")
    assert problem.path == ("zzz",)
    assert problem.hint is not None
    assert problem.hint.startswith("known fields: apiVersion, kind, metadata, spec")


def test_unknown_field_inside_an_env_value_mapping(tmp_path: Path) -> None:
    problem = only(tmp_path, "  env:\n    TOKEN: {valu: x, value: y}\n")
    assert problem.path == ("spec", "env", "TOKEN", "valu")
    assert problem.hint == "did you mean 'value'?"


def test_wrong_type_says_what_was_found_and_expected(tmp_path: Path) -> None:
    problem = only(tmp_path, '  container_port: "80"\n')
    assert problem.path == ("spec", "container_port")
    assert (problem.location.line, problem.location.column) == (10, 19)
    assert problem.found == "'80'"
    assert problem.expected == "an integer"


def test_missing_required_field(tmp_path: Path) -> None:
    text = BASE.replace("  regions: [us-east1, europe-west1]\n", "")
    problem = only(tmp_path, base=text)
    assert problem.path == ("spec", "regions")
    assert problem.message == "required field is missing"
    assert problem.location.line == 7  # where spec's mapping starts


def test_every_error_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  container_port: 0\n  request_timeout: 30sec\n  scalabilty: {}\n  secrets: [lower]\n",
    )
    assert [p.field_path for p in found] == [
        "spec.container_port",
        "spec.request_timeout",
        "spec.scalabilty",
        "spec.secrets[0]",
    ]
    assert [p.location.line for p in found] == [10, 11, 12, 13]


@pytest.mark.parametrize(
    ("extra", "path", "expected"),
    [
        ("  container_port: 70000\n", ("spec", "container_port"), "a value ≤ 65535"),
        ("  container_port: 0\n", ("spec", "container_port"), "a value ≥ 1"),
        (
            "  observability: {metrics: {port: 65536}}\n",
            ("spec", "observability", "metrics", "port"),
            "a value ≤ 65535",
        ),
    ],
)
def test_port_out_of_range(tmp_path: Path, extra: str, path: tuple[str, ...], expected: str) -> None:
    problem = only(tmp_path, extra)
    assert problem.path == path
    assert problem.expected == expected
    assert problem.location.line == 10


def test_duplicate_regions(tmp_path: Path) -> None:
    text = BASE.replace("[us-east1, europe-west1]", "[us-east1, europe-west1, us-east1]")
    problem = only(tmp_path, base=text)
    assert problem.path == ("spec", "regions")
    assert problem.location.line == 9
    assert problem.expected is not None
    assert "us-east1" in problem.expected


def test_duplicate_regions_in_an_override(tmp_path: Path) -> None:
    problem = only(tmp_path, "  overrides:\n    - regions: [us-east1, us-east1]\n      image: x\n")
    assert problem.path == ("spec", "overrides", 0, "regions")
    assert problem.location.line == 11


@pytest.mark.parametrize(
    ("extra", "path", "needle"),
    [
        ("  request_timeout: 30sec\n", ("spec", "request_timeout"), "duration"),
        ("  request_timeout: 0.0004s\n", ("spec", "request_timeout"), "at least 1ms"),
        ("  request_timeout: 400d\n", ("spec", "request_timeout"), "366d"),
        ("  request_timeout: .nan\n", ("spec", "request_timeout"), "duration"),
        ("  resources: {memory: 512MB}\n", ("spec", "resources", "memory"), "memory size"),
        ("  resources: {memory: 0Mi}\n", ("spec", "resources", "memory"), "above 0"),
        ("  resources: {cpu: 2 cores}\n", ("spec", "resources", "cpu"), "CPU"),
        ("  resources: {cpu: .inf}\n", ("spec", "resources", "cpu"), "CPU"),
        ("  resources: {cpu: 1e308}\n", ("spec", "resources", "cpu"), "CPU"),
    ],
)
def test_bad_units(tmp_path: Path, extra: str, path: tuple[str, ...], needle: str) -> None:
    problem = only(tmp_path, extra)
    assert problem.path == path
    assert problem.location.line == 10
    assert problem.expected is not None
    assert needle in problem.expected


def test_min_instances_above_max(tmp_path: Path) -> None:
    problem = only(tmp_path, "  scalability:\n    min_instances: 5\n    max_instances: 3\n")
    assert problem.path == ("spec", "scalability", "min_instances")
    assert (problem.location.line, problem.location.column) == (11, 20)
    assert problem.found == "5"
    assert problem.expected == "at most max_instances (3)"


@pytest.mark.parametrize("name", ["PORT", "TAXIWAY_REGION", "TAXIWAY_ENVIRONMENT", "TAXIWAY_SERVICE"])
def test_reserved_env_names(tmp_path: Path, name: str) -> None:
    problem = only(tmp_path, f"  env:\n    {name}: x\n")
    assert problem.path == ("spec", "env", name)
    assert problem.message == "environment variable is set by the platform"
    assert problem.location.line == 11


def test_reserved_names_cannot_be_secrets_either(tmp_path: Path) -> None:
    problem = only(tmp_path, "  secrets: [DB_PASSWORD, TAXIWAY_REVISION]\n")
    assert problem.path == ("spec", "secrets", 1)
    assert problem.found == "TAXIWAY_REVISION"


def test_a_name_cannot_be_both_env_and_secret(tmp_path: Path) -> None:
    problem = only(tmp_path, "  env: {DB_PASSWORD: x}\n  secrets: [DB_PASSWORD]\n")
    assert problem.message == "name is both an env variable and a secret"
    assert problem.path == ("spec", "env", "DB_PASSWORD")


def test_secret_names_are_upper_case(tmp_path: Path) -> None:
    problem = only(tmp_path, "  secrets: [db_password]\n")
    assert problem.path == ("spec", "secrets", 0)
    assert problem.found == "'db_password'"


@pytest.mark.parametrize("steps", ["[50, 10, 100]", "[10, 50]", "[10, 10, 100]"])
def test_traffic_steps_increase_and_end_at_100(tmp_path: Path, steps: str) -> None:
    problem = only(tmp_path, f"  deployment: {{traffic_steps: {steps}}}\n")
    assert problem.path == ("spec", "deployment", "traffic_steps")
    assert problem.message == "traffic steps must increase and end at 100"


def test_traffic_step_above_100_is_a_schema_error(tmp_path: Path) -> None:
    problem = only(tmp_path, "  deployment: {traffic_steps: [10, 150]}\n")
    assert problem.path == ("spec", "deployment", "traffic_steps", 1)
    assert problem.expected == "a value ≤ 100"


def test_fallback_region_must_be_a_service_region(tmp_path: Path) -> None:
    problem = only(tmp_path, "  load_balancing:\n    global: {fallback_region: asia-northeast3}\n")
    assert problem.path == ("spec", "load_balancing", "global", "fallback_region")
    assert problem.found == "asia-northeast3"
    assert problem.location.line == 11


def test_failover_order_regions_known_and_unique(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  load_balancing:\n    global: {failover_order: [europe-west1, nowhere, europe-west1]}\n",
    )
    assert [(p.field_path, p.found) for p in found] == [
        ("spec.load_balancing.global.failover_order[1]", "nowhere"),
        ("spec.load_balancing.global.failover_order[2]", "europe-west1"),
    ]


def test_monitor_timeout_within_interval(tmp_path: Path) -> None:
    problem = only(tmp_path, "  load_balancing:\n    global: {monitor: {interval: 2s, timeout: 5s}}\n")
    assert problem.path == ("spec", "load_balancing", "global", "monitor", "timeout")
    assert problem.found == "5s"
    assert problem.expected == "at most the interval (2s)"


def test_latency_slo_needs_a_threshold(tmp_path: Path) -> None:
    problem = only(tmp_path, "  slos:\n    - {name: fast, objective: 99, indicator: {type: latency}}\n")
    assert problem.path == ("spec", "slos", 0, "indicator")
    assert problem.message == "latency SLO needs a threshold"


def test_availability_slo_takes_no_threshold(tmp_path: Path) -> None:
    problem = only(
        tmp_path,
        "  slos:\n    - {name: up, objective: 99, indicator: {type: availability, threshold: 1s}}\n",
    )
    assert problem.path == ("spec", "slos", 0, "indicator", "threshold")


def test_slo_names_are_unique_and_objectives_below_100(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  slos:\n"
        "    - {name: up, objective: 99, indicator: {type: availability}}\n"
        "    - {name: up, objective: 100, indicator: {type: availability}}\n",
    )
    assert [(p.field_path, p.message) for p in found] == [
        ("spec.slos[1].objective", "invalid value"),
    ]
    found = problems(
        tmp_path,
        "  slos:\n"
        "    - {name: up, objective: 99, indicator: {type: availability}}\n"
        "    - {name: up, objective: 99.9, indicator: {type: availability}}\n",
    )
    assert [(p.field_path, p.message, p.location.line) for p in found] == [
        ("spec.slos[1].name", "duplicate SLO name", 12),
    ]


def test_nothing_to_run(tmp_path: Path) -> None:
    text = BASE.replace("  run:\n    command: [python3, app.py]\n", "")
    problem = only(tmp_path, base=text)
    assert problem.path == ("spec",)
    assert problem.message == "nothing to run"
    assert problem.location.line == 7  # the spec's first field


def test_an_image_alone_is_enough_to_run(tmp_path: Path) -> None:
    text = BASE.replace("  run:\n    command: [python3, app.py]\n", "  image: registry.example.com/x:1\n")
    assert load(tmp_path, base=text).spec.image == "registry.example.com/x:1"


def test_override_naming_a_region_the_service_is_not_in(tmp_path: Path) -> None:
    problem = only(tmp_path, "  overrides:\n    - regions: [europe-west1, asia-northeast3]\n      image: x\n")
    assert problem.path == ("spec", "overrides", 0, "regions", 1)
    assert problem.found == "asia-northeast3"
    assert problem.expected == "one of ['europe-west1', 'us-east1']"
    assert (problem.location.line, problem.location.column) == (11, 31)


def test_override_that_breaks_a_rule_points_at_the_override(tmp_path: Path) -> None:
    problem = only(
        tmp_path,
        "  scalability: {max_instances: 4}\n"
        "  overrides:\n"
        "    - regions: [us-east1, europe-west1]\n"
        "      scalability: {min_instances: 6}\n",
    )
    assert problem.path == ("spec", "overrides", 0, "scalability", "min_instances")
    assert problem.location.line == 13
    assert "in regions us-east1, europe-west1, after overrides" in problem.message


def test_override_that_leaves_nothing_to_run(tmp_path: Path) -> None:
    text = BASE.replace("  run:\n    command: [python3, app.py]\n", "  image: registry.example.com/x:1\n")
    problem = only(tmp_path, "  overrides:\n    - regions: [europe-west1]\n      image: null\n", base=text)
    assert problem.message == "nothing to run (in region europe-west1, after overrides)"
    assert problem.path == ("spec", "overrides", 0)


def test_override_fallback_region_is_checked_per_region(tmp_path: Path) -> None:
    problem = only(
        tmp_path,
        "  overrides:\n"
        "    - regions: [europe-west1]\n"
        "      load_balancing: {global: {fallback_region: nowhere}}\n",
    )
    assert problem.path == ("spec", "overrides", 0, "load_balancing", "global", "fallback_region")
    assert problem.found == "nowhere"


def test_override_bad_value_is_located_in_the_override(tmp_path: Path) -> None:
    problem = only(tmp_path, "  overrides:\n    - regions: [europe-west1]\n      request_timeout: 30sec\n")
    assert problem.path == ("spec", "overrides", 0, "request_timeout")
    assert problem.location.line == 12


def test_a_base_problem_is_not_repeated_for_every_overridden_region(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "  scalability: {min_instances: 5, max_instances: 3}\n"
        "  overrides:\n"
        "    - regions: [europe-west1]\n"
        "      env: {LOG_LEVEL: debug}\n",
    )
    assert [p.message for p in found] == ["min_instances is above max_instances"]


def test_env_value_of_the_wrong_shape_is_one_problem_at_the_variable(tmp_path: Path) -> None:
    problem = only(tmp_path, "  env:\n    HOSTS: [a, b]\n")
    assert problem.path == ("spec", "env", "HOSTS")
    assert problem.found == "a list"
    assert problem.expected == "a string or a mapping"
    assert problem.location.line == 11


def test_env_secret_flag_of_the_wrong_type_points_at_the_flag(tmp_path: Path) -> None:
    problem = only(tmp_path, "  env:\n    TOKEN: {value: x, secret: 1}\n")
    assert problem.path == ("spec", "env", "TOKEN", "secret")
    assert problem.expected == "true or false"


def test_env_scalars_become_text(tmp_path: Path) -> None:
    manifest = load(tmp_path, "  env: {WORKERS: 4, DEBUG: true, RATIO: 0.5}\n")
    assert manifest.spec.env == {"WORKERS": "4", "DEBUG": "true", "RATIO": "0.5"}


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (BASE.replace("name: hello", "name: Hello_World"), ("metadata", "name")),
        (BASE.replace("name: hello", "name: " + "a" * 64), ("metadata", "name")),
        (BASE.replace("apiVersion: taxiway/v1", "apiVersion: taxiway/v2"), ("apiVersion",)),
        (BASE.replace("kind: Service", "kind: Topology"), ("kind",)),
        (BASE.replace("us-east1, europe-west1", "US_EAST"), ("spec", "regions", 0)),
    ],
)
def test_identity_fields(tmp_path: Path, text: str, path: tuple[str | int, ...]) -> None:
    problem = only(tmp_path, base=text)
    assert problem.path == path
    assert problem.expected is not None
    assert problem.found is not None


# -- probes the owner leaves out check what the owner's probes check ----------------------


def test_unset_probes_take_the_path_of_the_probes_the_owner_set() -> None:
    probes = manifest.Probes.model_validate(
        {"readiness": {"path": "/-/ready", "period_seconds": 2}, "startup": {"failure_threshold": 60}}
    )
    assert probes.liveness.path == "/-/ready", "never a /health nobody asked for"
    assert probes.startup.path == "/-/ready"
    assert probes.startup.failure_threshold == 60
    assert probes.readiness.period_seconds == 2
    assert manifest.Probes.model_validate(probes.model_dump(mode="json")) == probes


def test_probes_the_owner_names_keep_their_own_paths_and_protocols() -> None:
    probes = manifest.Probes.model_validate(
        {"readiness": {"path": "/ready"}, "liveness": {"path": "/live"}, "startup": {"protocol": "tcp"}}
    )
    assert (probes.readiness.path, probes.liveness.path) == ("/ready", "/live")
    assert probes.startup.protocol == "tcp"
    tcp_only = manifest.Probes.model_validate({"readiness": {"protocol": "tcp"}})
    assert tcp_only.liveness.protocol == tcp_only.startup.protocol == "tcp"
    untouched = manifest.Probes.model_validate({})
    assert {untouched.startup.path, untouched.readiness.path, untouched.liveness.path} == {"/health"}
