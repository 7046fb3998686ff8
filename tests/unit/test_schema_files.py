"""The committed schemas and reference docs are exactly what the code generates.

``schemas/*.schema.json`` and ``docs/reference/*.md`` are generated from the models and
committed so that editors, CI and readers can use them without running Taxiway. These
tests fail when a model changes and the files were not regenerated, and say how.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from taxiway.spec import reference, schema
from tests.conftest import ROOT

KINDS = sorted(schema.KINDS)
SCHEMAS = ROOT / "schemas"
DOCS = ROOT / "docs" / "reference"
STALE = f"is stale or missing; regenerate it with `{reference.REGENERATE}` and commit the result"


def _first_difference(committed: str, fresh: str) -> str:
    for number, (old, new) in enumerate(zip(committed.splitlines(), fresh.splitlines(), strict=False), 1):
        if old != new:
            return f"first difference at line {number}:\n  committed: {old}\n  generated: {new}"
    return "the files differ in length"


def _assert_current(path: Path, fresh: str) -> None:
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} {STALE}")
    committed = path.read_text(encoding="utf-8")
    if committed != fresh:
        pytest.fail(f"{path.relative_to(ROOT)} {STALE}\n{_first_difference(committed, fresh)}")


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schema_is_current(kind: str) -> None:
    _assert_current(SCHEMAS / f"{kind}.schema.json", schema.text(kind))


@pytest.mark.parametrize("kind", KINDS)
def test_committed_reference_doc_is_current(kind: str) -> None:
    _assert_current(DOCS / f"{kind}.md", reference.render(schema.export(kind), kind))


def test_no_leftover_generated_files() -> None:
    """A kind that no longer exists must not leave its schema or doc behind."""
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == [f"{k}.schema.json" for k in KINDS]
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(["README.md", *(f"{k}.md" for k in KINDS)])


def test_the_regenerate_command_writes_the_committed_bytes(tmp_path: Path) -> None:
    """The command the failure messages name really produces what the tests compare with."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "taxiway.cli.main",
            "schema",
            "--write",
            str(tmp_path / "schemas"),
            "--docs",
            str(tmp_path / "docs"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for kind in KINDS:
        written = (tmp_path / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
        assert written == schema.text(kind)
        assert (tmp_path / "docs" / f"{kind}.md").read_text(encoding="utf-8") == reference.render(
            schema.export(kind), kind
        )


def test_schema_without_options_prints_one_kind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "taxiway.cli.main", "schema", "topology"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == schema.text("topology")


@pytest.mark.parametrize("kind", KINDS)
def test_every_link_in_the_reference_has_a_target(kind: str) -> None:
    text = reference.render(schema.export(kind), kind)
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links <= anchors, f"links without a section: {sorted(links - anchors)}"
    defined = set(schema.export(kind).get("$defs", {}))
    assert {reference.ROOT, *(name.lower() for name in defined)} == anchors


def _row(text: str, section: str, field: str) -> list[str]:
    """The cells of one field's row in one section of a rendered reference."""
    body = text.split(f'<a id="{section}"></a>', 1)[1].split("\n## ", 1)[0]
    for line in body.splitlines():
        if line.startswith(f"| `{field}` |"):
            return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
    raise AssertionError(f"no row for {field} in {section}")


def test_reference_shows_types_defaults_and_rules() -> None:
    text = reference.render(schema.export("service"), "service")
    assert _row(text, "spec", "container_port") == [
        "`container_port`",
        "integer",
        "`8080`",
        "Port the instance listens on in a container runtime; the `local` runtime gives each instance "
        "a port of its own in `PORT` instead. *Rules: range [1, 65535].*",
    ]
    regions = _row(text, "spec", "regions")
    assert regions[2] == "**required**"
    assert "at least 1 item; no duplicates" in regions[3]
    assert _row(text, "spec", "scalability")[1] == "[Scalability](#scalability)"
    assert _row(text, "spec", "request_timeout")[2] == "`1m`"
    assert _row(text, "resources", "memory")[2] == "`512Mi`"
    assert _row(text, "deployment", "traffic_steps")[2] == "`[10, 50, 100]`"
    assert _row(text, "deployment", "strategy")[1].startswith("one of `rolling`, `regional_rollout`")
    assert _row(text, "probes", "startup")[2].startswith("`period_seconds: 1`, `failure_threshold: 30`")
    # A pipe inside a pattern must not split the table cell.
    assert "(Ki\\|Mi\\|Gi\\|Ti\\|K\\|M\\|G\\|T)" in _row(text, "resources", "memory")[3]
    # A pattern too long to read in a cell is said in words.
    assert "1ms to 366d; number: range [0.001, 31622400]" in _row(text, "spec", "request_timeout")[3]
    assert "range (0, 100)" in _row(text, "slo", "objective")[3]


@pytest.mark.parametrize("kind", KINDS)
def test_every_schema_default_is_valid_where_it_stands(kind: str) -> None:
    """Defaults are shown as a user writes them (`1m`, `512Mi`), so each must pass its own field."""
    exported = schema.export(kind)
    defs = exported.get("$defs", {})
    checked = 0
    for name, definition in [("(document)", exported), *defs.items()]:
        for field, spec in definition.get("properties", {}).items():
            if "default" not in spec:
                continue
            field_schema = {"$defs": defs, **{k: v for k, v in spec.items() if k != "default"}}
            errors = list(jsonschema.Draft202012Validator(field_schema).iter_errors(spec["default"]))
            assert not errors, f"{name}.{field}: default {spec['default']!r}: {errors[0].message}"
            checked += 1
    assert checked
