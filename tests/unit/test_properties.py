"""Properties over generated input: derivation is deterministic, overrides stay in their
regions, a plan of a state against itself is empty, and no input, however mangled, gets
anything out of the loaders or the CLI but a validation error."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxiway.cli import main as cli
from taxiway.errors import ValidationFailed
from taxiway.plan import derive, diff, secret_digest
from taxiway.plan.regional import RegionalDefinition
from taxiway.plan.state import State
from taxiway.spec import checks, document, manifest, platform, service_files, validation
from tests.conftest import EXAMPLES

KEYER = secret_digest.Keyer(b"test key")

REGIONS = ("us-east1", "europe-west1", "asia-northeast3")
WORLD = platform.load_topology(EXAMPLES / "topology.yaml")
EXAMPLE = (EXAMPLES / "hello" / ".taxiway" / "service.yaml").read_text(encoding="utf-8")
PLATFORM = ["--topology", str(EXAMPLES / "topology.yaml"), "--inventory", str(EXAMPLES / "inventory.yaml")]

BOUNDED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text_values = st.text(alphabet="abcxyz0123456789-_ ", min_size=1, max_size=8)
env_values = st.one_of(text_values, st.builds(lambda v: {"value": v, "secret": True}, text_values))
env_maps = st.dictionaries(st.sampled_from(["A", "B", "LOG_LEVEL", "TOKEN"]), env_values, max_size=3)


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    """A valid manifest (as data) in some of the example world's regions, with overrides."""
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, unique=True))
    low = draw(st.integers(0, 2))
    spec: dict[str, Any] = {
        "run": {"command": ["python3", "app.py"]},
        "regions": regions,
        "scalability": {"min_instances": low, "max_instances": draw(st.integers(max(low, 2), 4))},
        "env": draw(env_maps),
    }
    patches = st.fixed_dictionaries(
        {},
        optional={
            "scalability": st.builds(lambda n: {"max_instances": n}, st.integers(2, 6)),
            "resources": st.builds(lambda m: {"memory": m}, st.sampled_from(["256Mi", "1Gi"])),
            "request_timeout": st.sampled_from(["10s", "2m"]),
            "env": env_maps,
            "image": st.just("registry.example.com/x:2"),
        },
    )
    overrides = []
    for patch in draw(st.lists(patches, max_size=3)):
        named = draw(st.lists(st.sampled_from(regions), min_size=1, unique=True))
        overrides.append({"regions": named, **patch})
    if overrides:
        spec["overrides"] = overrides
    return {
        "apiVersion": "taxiway/v1",
        "kind": "Service",
        "metadata": {"name": "hello", "owner": "team-hello"},
        "spec": spec,
    }


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    # hypothesis runs many examples per test; tmp_path is one directory for all of them
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def derived(data: dict[str, Any], *, revision: int | None = None) -> dict[str, RegionalDefinition]:
    with scratch() as directory:
        path = directory / "service.yaml"
        path.write_text(json.dumps(data), encoding="utf-8")
        loaded = service_files.load(service_files.find(path), "production")
    return derive.derive(
        loaded.manifest, "production", WORLD, revision=revision, source=loaded.document, secret_digest=KEYER
    )


def dumped(definition: RegionalDefinition) -> str:
    return definition.model_dump_json()


@BOUNDED
@given(definitions(), st.one_of(st.none(), st.integers(1, 10**6)))
def test_derivation_is_deterministic(data: dict[str, Any], revision: int | None) -> None:
    first = {region: dumped(d) for region, d in derived(data, revision=revision).items()}
    again = {region: dumped(d) for region, d in derived(data, revision=revision).items()}
    assert json.dumps(first) == json.dumps(again)
    assert list(first) == data["spec"]["regions"]


@BOUNDED
@given(definitions())
def test_overrides_touch_only_their_regions(data: dict[str, Any]) -> None:
    named = {region for override in data["spec"].get("overrides", []) for region in override["regions"]}
    plain = {**data, "spec": {k: v for k, v in data["spec"].items() if k != "overrides"}}
    with_overrides, without = derived(data), derived(plain)
    untouched = [region for region in data["spec"]["regions"] if region not in named]
    for region in untouched:
        assert dumped(with_overrides[region]) == dumped(without[region])
    # and untouched regions differ from one another only in their name
    anonymous = [without_region(with_overrides[region]) for region in untouched]
    assert all(item == anonymous[0] for item in anonymous)


def without_region(definition: RegionalDefinition) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(dumped(definition))
    data["region"] = data["spec"]["env"]["TAXIWAY_REGION"] = "*"
    return data


@BOUNDED
@given(definitions(), st.integers(1, 100), st.integers(1, 100))
def test_plan_of_a_state_against_itself_is_empty(data: dict[str, Any], old: int, new: int) -> None:
    state = {d.key: d for d in derived(data, revision=old).values()}
    assert diff.plan(state, state).empty
    # also once stored and read back (secrets then only as digests) and at another revision
    stored = State(definitions=list(state.values())).model_dump_json(by_alias=True)
    reread = State.model_validate_json(stored).by_key()
    assert diff.plan({d.key: d for d in derived(data, revision=new).values()}, reread).empty


def mutated(draw: st.DrawFn) -> str:
    lines = EXAMPLE.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if operation == "delete":
            del lines[at]
        elif operation == "duplicate":
            lines.insert(at, lines[draw(st.integers(0, len(lines) - 1))])
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        else:
            column = draw(st.integers(0, len(lines[at])))
            noise = draw(st.text(alphabet=" :-[]{},#&*!|>'\"\t?%@`~0123456789az.\n", min_size=1, max_size=3))
            lines[at] = lines[at][:column] + noise + lines[at][column:]
    return "\n".join(lines) + "\n"


mangled = st.one_of(
    st.composite(mutated)(),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", errors="replace")),
    st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")),
)


def only_validation_errors(text: str, directory: Path) -> None:
    """Parse, validate and load ``text`` every way Taxiway does; anything but ValidationFailed fails."""
    with contextlib.suppress(ValidationFailed):
        doc = document.parse(text, "service.yaml")
        validation.validate(manifest.Manifest, doc, checks=[checks.check_manifest])
    taxiway = directory / ".taxiway"
    taxiway.mkdir(exist_ok=True)
    (taxiway / "service.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
    with contextlib.suppress(ValidationFailed):
        for loaded in service_files.load_all(service_files.find(directory)).values():
            derive.derive(
                loaded.manifest, loaded.environment, WORLD, source=loaded.document, secret_digest=KEYER
            )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled)
def test_mangled_yaml_raises_only_validation_errors(text: str) -> None:
    with scratch() as directory:
        only_validation_errors(text, directory)


def run_cli(*args: str) -> tuple[int, str]:
    output = io.StringIO()
    with (
        contextlib.redirect_stdout(output),
        contextlib.redirect_stderr(output),
        pytest.raises(SystemExit) as exited,
    ):
        cli.main(list(args))
    code = exited.value.code
    return (code if isinstance(code, int) else 0), output.getvalue()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.composite(mutated)(), st.text(max_size=120)), st.sampled_from(["validate", "plan"]))
def test_cli_never_shows_a_traceback(text: str, command: str) -> None:
    with scratch() as directory:
        taxiway = directory / ".taxiway"
        taxiway.mkdir()
        (taxiway / "service.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
        extra = ["--env", "production", "--json"] if command == "plan" else []
        code, output = run_cli(command, str(directory), *extra, *PLATFORM)
        assert code in (0, 1), output
        assert "Traceback" not in output


def test_cli_accepts_the_example() -> None:
    code, output = run_cli("validate", str(EXAMPLES / "hello"), *PLATFORM)
    assert code == 0, output
