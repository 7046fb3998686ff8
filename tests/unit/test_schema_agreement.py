"""check-jsonschema and ``taxiway validate`` agree on the example manifests.

Good examples pass both. Every ``examples/bad/schema/<case>`` breaks a rule the JSON
Schema can express, so both reject it; every ``examples/bad/semantic/<case>`` breaks a
rule only Taxiway can check (between fields, or against the topology and inventory), so
the schema accepts it and Taxiway rejects it. Each bad case says in a leading comment
``# expect: <field> at line <n>``, and Taxiway must report that field at that line.

check-jsonschema runs as a real subprocess from this interpreter's environment, on the
committed schemas, once for all files (it reports per file); it needs no network.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from taxiway.spec import schema
from tests.conftest import EXAMPLES, ROOT
from tests.unit import sample_manifest

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
SCHEMAS = ROOT / "schemas"
SERVICE_SCHEMA = SCHEMAS / "service.schema.json"
PLATFORM = ["--topology", str(EXAMPLES / "topology.yaml"), "--inventory", str(EXAMPLES / "inventory.yaml")]
MANIFEST = Path(".taxiway") / "service.yaml"
EXPECT = re.compile(r"expect: (?P<field>\S+) at line (?P<line>\d+)")
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<path>\S+)$")

GOOD = sorted(p.parent.parent for p in EXAMPLES.glob(f"*/{MANIFEST}"))
SCHEMA_CASES = sorted(p.parent.parent for p in (EXAMPLES / "bad" / "schema").glob(f"*/{MANIFEST}"))
SEMANTIC_CASES = sorted(p.parent.parent for p in (EXAMPLES / "bad" / "semantic").glob(f"*/{MANIFEST}"))
BAD = SCHEMA_CASES + SEMANTIC_CASES


@dataclass(frozen=True)
class Expectation:
    field: str
    line: int


def _expectation(case: Path) -> Expectation:
    text = (case / MANIFEST).read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    found = [m for line in header if (m := EXPECT.search(line))]
    assert len(found) == 1, f"{case}: the leading comment needs one 'expect: <field> at line <n>'"
    return Expectation(found[0]["field"], int(found[0]["line"]))


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@cache
def _schema_verdicts() -> dict[Path, list[str]]:
    """check-jsonschema's error paths (``$.spec.regions``) per manifest, for every example."""
    assert CHECK_JSONSCHEMA.exists(), f"{CHECK_JSONSCHEMA} is missing: install the dev dependencies"
    files = [case / MANIFEST for case in GOOD + BAD]
    result = _run(
        [str(CHECK_JSONSCHEMA), "-o", "json", "--schemafile", str(SERVICE_SCHEMA), *map(str, files)]
    )
    report = json.loads(result.stdout)
    assert not report["parse_errors"], report["parse_errors"]
    verdicts: dict[Path, list[str]] = {file.resolve(): [] for file in files}
    for error in report["errors"]:
        verdicts[Path(error["filename"]).resolve()].append(error["path"])
    assert (result.returncode == 0) == (not report["errors"]), result.stderr
    return verdicts


@cache
def _taxiway_problems() -> dict[Path, list[dict[str, Any]]]:
    """``taxiway validate --json`` problems per manifest, for every bad example at once."""
    result = _run([sys.executable, "-m", "taxiway.cli.main", "validate", "--json", *map(str, BAD), *PLATFORM])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    problems: dict[Path, list[dict[str, Any]]] = {(case / MANIFEST).resolve(): [] for case in BAD}
    for problem in json.loads(result.stdout)["problems"]:
        problems[Path(problem["file"]).resolve()].append(problem)
    return problems


def _within(schema_path: str, field: str) -> bool:
    """Whether check-jsonschema's ``$.a.b`` is ``field`` or one of its ancestors."""
    prefix = schema_path.removeprefix("$").removeprefix(".")
    return not prefix or field == prefix or field.startswith((f"{prefix}.", f"{prefix}["))


def _ids(cases: list[Path]) -> list[str]:
    return [case.name for case in cases]


def test_the_corpus_is_there() -> None:
    assert {case.name for case in GOOD} >= {"hello", "minimal"}
    assert len(SCHEMA_CASES) >= 10
    assert len(SEMANTIC_CASES) >= 8


def test_exported_schemas_pass_the_metaschema(tmp_path: Path) -> None:
    fresh = []
    for kind in sorted(schema.KINDS):
        path = tmp_path / f"{kind}.schema.json"
        path.write_text(schema.text(kind), encoding="utf-8")
        fresh.append(path)
    committed = sorted(SCHEMAS.glob("*.schema.json"))
    result = _run([str(CHECK_JSONSCHEMA), "--check-metaschema", *map(str, fresh + committed)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["topology", "inventory"])
def test_platform_examples_pass_their_schema(kind: str) -> None:
    result = _run(
        [
            str(CHECK_JSONSCHEMA),
            "--schemafile",
            str(SCHEMAS / f"{kind}.schema.json"),
            str(EXAMPLES / f"{kind}.yaml"),
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_good_examples_pass_taxiway() -> None:
    result = _run(
        [sys.executable, "-m", "taxiway.cli.main", "validate", "--json", *map(str, GOOD), *PLATFORM]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["valid"]
    assert verdict["topology_checked"]


@pytest.mark.parametrize("case", GOOD, ids=_ids(GOOD))
def test_good_example_passes_the_schema(case: Path) -> None:
    assert _schema_verdicts()[(case / MANIFEST).resolve()] == []


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=_ids(SCHEMA_CASES))
def test_schema_case_is_rejected_by_both_at_the_same_field(case: Path) -> None:
    expected = _expectation(case)
    schema_errors = _schema_verdicts()[(case / MANIFEST).resolve()]
    assert schema_errors, "check-jsonschema accepted a manifest the schema should reject"
    assert any(_within(path, expected.field) for path in schema_errors), (
        f"check-jsonschema blamed {schema_errors}, not {expected.field}"
    )
    _assert_taxiway_names(case, expected)


@pytest.mark.parametrize("case", SEMANTIC_CASES, ids=_ids(SEMANTIC_CASES))
def test_semantic_case_passes_the_schema_and_fails_taxiway(case: Path) -> None:
    assert _schema_verdicts()[(case / MANIFEST).resolve()] == [], (
        "the schema rejects this case: move it to examples/bad/schema/"
    )
    _assert_taxiway_names(case, _expectation(case))


def _assert_taxiway_names(case: Path, expected: Expectation) -> None:
    problems = _taxiway_problems()[(case / MANIFEST).resolve()]
    assert problems, "taxiway validate accepted it"
    reported = [(p["field"], p["line"]) for p in problems]
    assert (expected.field, expected.line) in reported, f"expected {expected}, taxiway reported {reported}"
    for problem in problems:
        assert problem["message"]
        assert problem["column"] > 0


@pytest.mark.parametrize(
    "path",
    [*(case / MANIFEST for case in GOOD + BAD), EXAMPLES / "topology.yaml", EXAMPLES / "inventory.yaml"],
    ids=lambda p: str(p.relative_to(EXAMPLES)),
)
def test_modeline_points_at_the_committed_schema(path: Path) -> None:
    """Editors find the schema through the first line, relative to the file."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path}: first line must be '# yaml-language-server: $schema=<relative path>'"
    kind = "service" if path.name == "service.yaml" else path.stem
    assert (path.parent / match["path"]).resolve() == (SCHEMAS / f"{kind}.schema.json").resolve()


# -- the edges of quantities and integers: both accept, or both reject ------------------------

EDGES = {
    # name: (lines under spec, whether both accept)
    "memory-0": ('  resources: {memory: "0"}\n', False),
    "memory-0Mi": ("  resources: {memory: 0Mi}\n", False),
    "memory-whole-float": ("  resources: {memory: 536870912.0}\n", True),
    "cpu-0m": ("  resources: {cpu: 0m}\n", False),
    "cpu-0.000": ('  resources: {cpu: "0.000"}\n', False),
    "cpu-0.0004": ("  resources: {cpu: 0.0004}\n", False),
    "cpu-1m": ("  resources: {cpu: 1m}\n", True),
    "duration-0s": ("  request_timeout: 0s\n", False),
    "duration-0.5ms": ("  request_timeout: 0.5ms\n", False),
    "duration-0.0004": ("  request_timeout: 0.0004\n", False),
    "duration-1ms": ("  request_timeout: 1ms\n", True),
    "duration-0.001": ("  request_timeout: 0.001\n", True),
    "duration-4-decimals": ("  request_timeout: 1.2345s\n", False),
    "window-366d": (
        "  slos: [{name: up, objective: 99, indicator: {type: availability}, window: 366d}]\n",
        True,
    ),
    "window-8784h": (
        "  slos: [{name: up, objective: 99, indicator: {type: availability}, window: 8784h}]\n",
        True,
    ),
    "window-366.5d": (
        "  slos: [{name: up, objective: 99, indicator: {type: availability}, window: 366.5d}]\n",
        False,
    ),
    "window-8785h": (
        "  slos: [{name: up, objective: 99, indicator: {type: availability}, window: 8785h}]\n",
        False,
    ),
    "window-seconds-over": (
        "  slos: [{name: up, objective: 99, indicator: {type: availability}, window: 31622401}]\n",
        False,
    ),
    "port-8080.0": ("  container_port: 8080.0\n", True),
    "port-8080.5": ("  container_port: 8080.5\n", False),
    "steps-whole-floats": ("  deployment: {traffic_steps: [10.0, 100.0]}\n", True),
    "metrics-port-9090.0": ("  observability: {metrics: {port: 9090.0}}\n", True),
}
EDGE_HEAD = "# yaml-language-server: $schema=../../schemas/service.schema.json\n" + sample_manifest.base(
    "us-east1"
)


@pytest.fixture(scope="module")
def edge_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bool, bool]]:
    """(check-jsonschema accepts, taxiway validate accepts) for every edge case, one run each."""
    root = tmp_path_factory.mktemp("edges")
    files = {}
    for name, (lines, _) in EDGES.items():
        path = root / name / MANIFEST
        path.parent.mkdir(parents=True)
        path.write_text(EDGE_HEAD + lines, encoding="utf-8")
        files[name] = path.resolve()
    checked = _run(
        [str(CHECK_JSONSCHEMA), "-o", "json", "--schemafile", str(SERVICE_SCHEMA), *map(str, files.values())]
    )
    schema_errors = {Path(e["filename"]).resolve() for e in json.loads(checked.stdout)["errors"]}
    validated = _run(
        [
            sys.executable,
            "-m",
            "taxiway.cli.main",
            "validate",
            "--json",
            *(str(p.parent.parent) for p in files.values()),
            *PLATFORM,
        ]
    )
    assert "Traceback" not in validated.stderr
    rejected = {Path(p["file"]).resolve() for p in json.loads(validated.stdout)["problems"]}
    return {name: (path not in schema_errors, path not in rejected) for name, path in files.items()}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_the_schema_and_taxiway_agree_on_the_edges(
    name: str, edge_verdicts: dict[str, tuple[bool, bool]]
) -> None:
    accepted = EDGES[name][1]
    assert edge_verdicts[name] == (accepted, accepted), "(check-jsonschema accepts, taxiway accepts)"
