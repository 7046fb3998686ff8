"""A service's .taxiway/ directory: overlays deep-merged per environment, env files added."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxiway.errors import ValidationFailed
from taxiway.spec import service_files
from taxiway.spec.manifest import EnvValue
from taxiway.spec.problem import Problem

SERVICE = """\
apiVersion: taxiway/v1
kind: Service
metadata:
  name: hello
  owner: team-hello
spec:
  image: registry.example.com/hello:1
  regions: [us-east1, europe-west1]
  scalability:
    min_instances: 2
    max_instances: 4
  env:
    GREETING: hello
    TOKEN: {value: base-token, secret: true}
"""


def service_dir(tmp_path: Path, **files: str) -> Path:
    """A service directory with .taxiway/service.yaml and the named extra files."""
    taxiway = tmp_path / ".taxiway"
    taxiway.mkdir(exist_ok=True)
    (taxiway / "service.yaml").write_text(SERVICE, encoding="utf-8")
    for name, text in files.items():
        (taxiway / f"{name.replace('_', '-')}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def load(tmp_path: Path, environment: str = "staging", **files: str) -> service_files.Loaded:
    return service_files.load(service_files.find(service_dir(tmp_path, **files)), environment)


def problems(tmp_path: Path, environment: str = "staging", **files: str) -> list[Problem]:
    with pytest.raises(ValidationFailed) as caught:
        load(tmp_path, environment, **files)
    return list(caught.value.problems)


def test_find_from_a_directory_or_the_manifest(tmp_path: Path) -> None:
    service_dir(tmp_path, service_staging="{}\n", env_production="A: b\n")
    by_dir = service_files.find(tmp_path)
    by_file = service_files.find(tmp_path / ".taxiway" / "service.yaml")
    assert by_dir == by_file
    assert set(by_dir.overlays) == {"staging"}
    assert set(by_dir.env_files) == {"production"}


def test_find_without_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service_files.find(tmp_path)
    assert caught.value.problems[0].message == "no manifest found"
    with pytest.raises(ValidationFailed) as caught:
        service_files.find(tmp_path / "missing.yaml")
    assert caught.value.problems[0].message == "no such file or directory"


def test_overlay_for_an_unknown_environment_is_named(tmp_path: Path) -> None:
    service_dir(tmp_path, service_prod="{}\n")
    with pytest.raises(ValidationFailed) as caught:
        service_files.find(tmp_path)
    (problem,) = caught.value.problems
    assert problem.location.file.endswith("service-prod.yaml")
    assert "'prod'" in problem.message


def test_without_files_both_environments_see_the_manifest(tmp_path: Path) -> None:
    loaded = service_files.load_all(service_files.find(service_dir(tmp_path)))
    assert set(loaded) == {"staging", "production"}
    assert loaded["staging"].manifest == loaded["production"].manifest


def test_overlay_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    overlay = "spec:\n  regions: [us-east1]\n  scalability:\n    max_instances: 2\n"
    spec = load(tmp_path, service_staging=overlay).manifest.spec
    assert spec.regions == ["us-east1"]  # replaced, not appended
    assert (spec.scalability.min_instances, spec.scalability.max_instances) == (2, 2)  # merged
    assert spec.env["GREETING"] == "hello"


def test_overlay_applies_to_its_environment_only(tmp_path: Path) -> None:
    overlay = "spec:\n  scalability: {max_instances: 3}\n"
    service_dir(tmp_path, service_staging=overlay)
    loaded = service_files.load_all(service_files.find(tmp_path))
    assert loaded["staging"].manifest.spec.scalability.max_instances == 3
    assert loaded["production"].manifest.spec.scalability.max_instances == 4


def test_overlay_null_removes_a_field_back_to_its_default(tmp_path: Path) -> None:
    overlay = "spec:\n  scalability: null\n  run: {command: [python3, app.py]}\n  image: null\n"
    spec = load(tmp_path, service_staging=overlay).manifest.spec
    assert spec.image is None
    assert spec.run is not None
    assert spec.scalability.max_instances == 10  # the default


def test_error_from_the_overlay_points_into_the_overlay(tmp_path: Path) -> None:
    overlay = "# staging\nspec:\n  scalability:\n    min_instances: 9\n"
    (problem,) = problems(tmp_path, service_staging=overlay)
    assert problem.location.file.endswith("service-staging.yaml")
    assert (problem.location.line, problem.location.column) == (4, 20)
    assert problem.path == ("spec", "scalability", "min_instances")


def test_schema_error_from_the_overlay_points_into_the_overlay(tmp_path: Path) -> None:
    overlay = "spec:\n  scalabilty: {}\n"
    (problem,) = problems(tmp_path, service_staging=overlay)
    assert problem.location.file.endswith("service-staging.yaml")
    assert problem.location.line == 2
    assert problem.hint == "did you mean 'scalability'?"


def test_error_the_overlay_did_not_touch_points_into_the_manifest(tmp_path: Path) -> None:
    overlay = "spec:\n  scalability:\n    max_instances: 1\n"
    (problem,) = problems(tmp_path, service_staging=overlay)
    assert problem.path == ("spec", "scalability", "min_instances")
    assert problem.location.file.endswith("service.yaml")
    assert problem.location.line == 10


def test_empty_overlay_changes_nothing(tmp_path: Path) -> None:
    loaded = load(tmp_path, service_staging="# nothing for staging yet\n")
    assert loaded.manifest.spec.scalability.max_instances == 4


@pytest.mark.parametrize("overlay", ["- a\n", "just text\n"])
def test_overlay_that_is_not_a_mapping_is_located_in_the_overlay(tmp_path: Path, overlay: str) -> None:
    (problem,) = problems(tmp_path, service_staging=overlay)
    assert problem.location.file.endswith("service-staging.yaml")
    assert problem.message == "an overlay must be a mapping"


def test_overlay_cannot_rename_the_service(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, service_staging="metadata:\n  name: other\n")
    assert problem.path == ("metadata", "name")
    assert problem.location.file.endswith("service-staging.yaml")
    assert problem.location.line == 2


def test_env_file_adds_variables_and_keeps_the_secret_flag(tmp_path: Path) -> None:
    env = "LOG_LEVEL: debug\nWORKERS: 4\nTOKEN: staging-token\n"
    spec = load(tmp_path, env_staging=env).manifest.spec
    assert spec.env["LOG_LEVEL"] == "debug"
    assert spec.env["WORKERS"] == "4"
    assert spec.env["GREETING"] == "hello"
    assert spec.env["TOKEN"] == EnvValue(value="staging-token", secret=True)


def test_env_file_only_for_its_environment(tmp_path: Path) -> None:
    spec = load(tmp_path, "production", env_staging="LOG_LEVEL: debug\n").manifest.spec
    assert "LOG_LEVEL" not in spec.env


def test_env_file_problems_point_into_the_env_file(tmp_path: Path) -> None:
    found = problems(tmp_path, env_staging="ok: 1\nbad-name: x\nLIST: [1]\n")
    assert [(p.field_path, p.location.line, p.found) for p in found] == [
        ("bad-name", 2, "bad-name"),
        ("LIST", 3, "a list"),
    ]
    assert all(p.location.file.endswith("env-staging.yaml") for p in found)


def test_env_file_reserved_name_points_into_the_env_file(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, env_staging="A: 1\nPORT: 9000\n")
    assert problem.location.file.endswith("env-staging.yaml")
    assert problem.location.line == 2
    assert problem.path == ("spec", "env", "PORT")


def test_env_file_must_be_a_mapping(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, env_staging="- A=1\n")
    assert problem.message == "env file must be a mapping"
    assert problem.location.file.endswith("env-staging.yaml")


def test_unreadable_files_are_problems(tmp_path: Path) -> None:
    service_dir(tmp_path)
    (tmp_path / ".taxiway" / "service.yaml").write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ValidationFailed) as caught:
        service_files.load(service_files.find(tmp_path), "staging")
    assert caught.value.problems[0].message == "file is not UTF-8 text"


def test_unknown_environment(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, "qa")
    assert problem.expected == "one of staging, production"


def test_load_all_reports_every_environment_at_once(tmp_path: Path) -> None:
    service_dir(
        tmp_path,
        service_staging="spec: {container_port: 0}\n",
        service_production="spec: {request_timeout: 1y}\n",
    )
    with pytest.raises(ValidationFailed) as caught:
        service_files.load_all(service_files.find(tmp_path))
    assert sorted(Path(p.location.file).name for p in caught.value.problems) == [
        "service-production.yaml",
        "service-staging.yaml",
    ]


def test_files_given_as_text_load_as_the_same_files_on_disk(tmp_path: Path) -> None:
    overlay = "spec:\n  scalability:\n    min_instances: 1\n"
    on_disk = service_files.load_all(service_files.find(service_dir(tmp_path, service_staging=overlay)))
    as_text = service_files.load_texts({"service.yaml": SERVICE, "service-staging.yaml": overlay})
    assert {env: loaded.manifest for env, loaded in as_text.items()} == {
        env: loaded.manifest for env, loaded in on_disk.items()
    }
    assert as_text["staging"].document.locate(("spec", "scalability", "min_instances")).file == (
        ".taxiway/service-staging.yaml"
    )


def test_files_given_as_text_without_a_manifest_are_a_located_problem() -> None:
    with pytest.raises(ValidationFailed) as caught:
        service_files.load_texts({"env-staging.yaml": "A: b\n"})
    assert [(p.location.file, p.message) for p in caught.value.problems] == [
        (".taxiway/service.yaml", "no manifest found")
    ]
