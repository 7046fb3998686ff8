"""All problems at once, across phases: schema errors do not hide the semantic ones.

When the schema rejects one field, the semantic checks (and, given a topology, the
platform checks) still run on what parsed, so one run reports both, each at its line.
A rule that reads a rejected field is skipped rather than judged on a default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxiway.cli import main as cli
from taxiway.errors import ValidationFailed
from taxiway.spec import service_files
from tests.conftest import EXAMPLES
from tests.unit import sample_manifest

# Lines 1-9; anything a test adds under spec starts at line 10.
BASE = sample_manifest.base("us-east1, europe-west1")
PLATFORM = ["--topology", str(EXAMPLES / "topology.yaml"), "--inventory", str(EXAMPLES / "inventory.yaml")]


def reported(tmp_path: Path, extra: str, *, base: str = BASE) -> list[tuple[str, int, str]]:
    path = tmp_path / "service.yaml"
    path.write_text(base + extra, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service_files.load(service_files.find(path), "production")
    return [(p.field_path, p.location.line, p.message) for p in caught.value.problems]


def test_a_schema_error_and_semantic_errors_are_reported_together(tmp_path: Path) -> None:
    extra = (
        "  resources:\n"
        "    cpu: 2cores\n"  # line 11: schema
        "  scalability:\n"
        "    min_instances: 5\n"  # line 13: above max_instances
        "    max_instances: 2\n"
        "  overrides:\n"
        "    - regions: [asia-northeast3]\n"  # line 16: not one of the service's regions
        "      request_timeout: 30s\n"
    )
    found = reported(tmp_path, extra)
    assert ("spec.resources.cpu", 11, "invalid value") in found
    assert ("spec.scalability.min_instances", 13, "min_instances is above max_instances") in found
    assert (
        "spec.overrides[0].regions[0]",
        16,
        "override names a region the service does not run in",
    ) in found
    assert len(found) == 3, found


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        # max_instances rejected: min_instances 20 is not judged against the default 10
        ("  scalability:\n    min_instances: 20\n    max_instances: ten\n", "spec.scalability.max_instances"),
        # a misspelt field: its siblings may be what the owner meant, so they are not judged
        ("  scalability:\n    min_instances: 20\n    max_instance: 30\n", "spec.scalability.max_instance"),
        # an override's field rejected: the regions it names are not judged on the rest
        (
            "  overrides:\n"
            "    - regions: [us-east1]\n"
            "      scalability: {min_instances: 20, max_instances: x}\n",
            "spec.overrides[0].scalability.max_instances",
        ),
    ],
    ids=["rejected-sibling", "misspelt-sibling", "rejected-in-override"],
)
def test_rules_reading_a_rejected_field_are_skipped(tmp_path: Path, extra: str, field: str) -> None:
    assert [f for f, _, _ in reported(tmp_path, extra)] == [field]


def test_a_rejected_command_is_not_also_nothing_to_run(tmp_path: Path) -> None:
    """Without its command, ``run`` is dropped whole: "nothing to run" would be about that."""
    empty = BASE.replace("    command: [python3, app.py]\n", "    command: []\n")
    assert reported(tmp_path, "", base=empty) == [("spec.run.command", 8, "invalid value")]


def validate_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    with pytest.raises(SystemExit) as exited:
        cli.main(["validate", "--json", *args])
    captured = capsys.readouterr()
    assert exited.value.code == 1, captured.err
    verdict: dict[str, object] = json.loads(captured.out)
    return verdict


def test_validate_reports_a_schema_error_and_an_unknown_region_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "service.yaml"
    text = sample_manifest.base("us-east1, mars-north1") + "  resources:\n    memory: 512MB\n"
    path.write_text(text, encoding="utf-8")
    verdict = validate_json(capsys, str(path), *PLATFORM)
    problems = verdict["problems"]
    assert isinstance(problems, list)
    found = sorted({(p["field"], p["line"], p["message"]) for p in problems})
    # Each environment sees the same file: each problem once. Capacity is not judged
    # on the default memory that stands in for the rejected one.
    assert found == [
        ("spec.regions[1]", 9, "region not allowed for this service by the inventory"),
        ("spec.regions[1]", 9, "unknown region"),
        ("spec.resources.memory", 11, "invalid value"),
    ]
