"""The plan: created, changed (field by field, old → new) and removed, secrets redacted."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from taxiway.cli import plan_view
from taxiway.plan import derive, diff, secret_digest
from taxiway.plan.regional import RegionalDefinition
from taxiway.spec import platform, service_files
from tests.conftest import EXAMPLES
from tests.unit import sample_manifest

SECRET = "s3cr3t-do-not-print"
OTHER_SECRET = "an0ther-s3cr3t"

BASE = sample_manifest.base("us-east1, europe-west1")

Defs = dict[diff.Key, RegionalDefinition]


def desired(tmp_path: Path, extra: str = "", *, base: str = BASE, revision: int | None = None) -> Defs:
    path = tmp_path / "service.yaml"
    path.write_text(base + extra, encoding="utf-8")
    loaded = service_files.load(service_files.find(path), "production")
    world = platform.load_topology(EXAMPLES / "topology.yaml")
    result = derive.derive(
        loaded.manifest,
        "production",
        world,
        revision=revision,
        secret_digest=secret_digest.Keyer(b"test key"),
    )
    return {d.key: d for d in result.values()}


def rendered(plan: diff.Plan) -> str:
    """Everything a user or CI could see of a plan: the human view and the JSON."""
    buffer = io.StringIO()
    plan_view.print_plan(Console(file=buffer, width=200, color_system=None), plan)
    return buffer.getvalue() + json.dumps(plan.to_json())


def changes(plan: diff.Plan) -> dict[str, tuple[object, object]]:
    (change,) = plan.changes
    assert change.action == "change"
    return {f.path: (f.old, f.new) for f in change.fields}


def test_nothing_runs_so_every_region_is_created(tmp_path: Path) -> None:
    plan = diff.plan(desired(tmp_path), {})
    assert [(c.region, c.action) for c in plan.changes] == [
        ("europe-west1", "create"),
        ("us-east1", "create"),
    ]
    assert plan.to_json()["summary"] == {"create": 2, "change": 0, "remove": 0}
    fields = {f.path: (f.old, f.new) for f in plan.changes[0].fields}
    assert fields["spec.scalability.min_instances"] == (None, 1)
    assert "create" in rendered(plan)


def test_a_created_local_region_shows_the_port_its_instances_get(tmp_path: Path) -> None:
    human = rendered(diff.plan(desired(tmp_path, "  container_port: 9000\n"), {})).split('{"changes"')[0]
    assert f'+ spec.env.PORT = "{derive.ASSIGNED_PORT}"' in human
    assert "9000" not in human, "the local runtime never listens on container_port"


def test_plan_of_a_state_against_itself_is_empty(tmp_path: Path) -> None:
    state = desired(tmp_path, f"  env: {{TOKEN: {{value: {SECRET}, secret: true}}}}\n")
    plan = diff.plan(state, state)
    assert plan.empty
    assert len(plan.unchanged) == 2
    assert "No changes" in rendered(plan)


def test_a_region_dropped_from_the_manifest_is_removed(tmp_path: Path) -> None:
    before = desired(tmp_path)
    after = desired(tmp_path, base=BASE.replace("[us-east1, europe-west1]", "[us-east1]"))
    plan = diff.plan(after, before)
    assert [(c.region, c.action) for c in plan.changes] == [
        ("europe-west1", "remove"),
        ("us-east1", "change"),
    ]
    assert plan.changes[0].fields
    assert all(f.new is None for f in plan.changes[0].fields)
    # the service's region list, and the default failover order that follows it, changed
    assert changes(diff.Plan(plan.changes[1:])) == {
        "spec.regions": (["us-east1", "europe-west1"], ["us-east1"]),
        "spec.load_balancing.global.failover_order": (["us-east1", "europe-west1"], ["us-east1"]),
    }


def test_changes_are_listed_field_by_field_old_to_new(tmp_path: Path) -> None:
    before = desired(tmp_path, "  scalability: {max_instances: 4}\n")
    after = desired(
        tmp_path,
        "  scalability: {max_instances: 6}\n  overrides:\n    - regions: [europe-west1]\n      image: x:1\n",
    )
    plan = diff.plan(after, before)
    by_region = {c.region: {f.path: (f.old, f.new) for f in c.fields} for c in plan.changes}
    assert by_region["us-east1"] == {"spec.scalability.max_instances": (4, 6)}
    assert by_region["europe-west1"] == {
        "spec.scalability.max_instances": (4, 6),
        "spec.image": (None, "x:1"),
    }
    text = rendered(plan)
    assert "spec.scalability.max_instances: 4 → 6" in text


def test_revision_number_alone_is_not_a_change(tmp_path: Path) -> None:
    plan = diff.plan(desired(tmp_path, revision=2), desired(tmp_path, revision=1))
    assert plan.empty


def test_changed_secret_is_a_change_but_never_shown(tmp_path: Path) -> None:
    before = desired(tmp_path, f"  env: {{TOKEN: {{value: {SECRET}, secret: true}}}}\n")
    after = desired(tmp_path, f"  env: {{TOKEN: {{value: {OTHER_SECRET}, secret: true}}}}\n")
    plan = diff.plan(after, before)
    assert len(plan.changes) == 2
    field = next(f for f in plan.changes[0].fields if f.path == "spec.env.TOKEN")
    assert field.sensitive
    assert (field.old, field.new) == (diff.SENSITIVE, diff.SENSITIVE)
    text = rendered(plan)
    assert SECRET not in text
    assert OTHER_SECRET not in text


def test_created_secret_is_never_shown(tmp_path: Path) -> None:
    plan = diff.plan(desired(tmp_path, f"  env: {{TOKEN: {{value: {SECRET}, secret: true}}}}\n"), {})
    assert SECRET not in rendered(plan)
    assert SECRET not in str(plan)


def test_plain_env_values_are_shown(tmp_path: Path) -> None:
    plan = diff.plan(
        desired(tmp_path, "  env: {LEVEL: debug}\n"), desired(tmp_path, "  env: {LEVEL: info}\n")
    )
    for change in plan.changes:
        assert {f.path: (f.old, f.new) for f in change.fields} == {"spec.env.LEVEL": ("info", "debug")}


def test_a_value_marked_secret_is_redacted_on_both_sides(tmp_path: Path) -> None:
    before = desired(tmp_path, f"  env: {{TOKEN: {SECRET}}}\n")
    after = desired(tmp_path, f"  env: {{TOKEN: {{value: {SECRET}, secret: true}}}}\n")
    plan = diff.plan(after, before)
    field = next(f for f in plan.changes[0].fields if f.path == "spec.env.TOKEN")
    assert field.sensitive
    assert SECRET not in rendered(plan)


def test_a_new_artifact_changes_every_region_that_stays(tmp_path: Path) -> None:
    before = desired(tmp_path)
    after = desired(tmp_path, "  env: {GREETING: hi}\n")
    unchanged = diff.plan(before, before)
    assert diff.with_artifact(unchanged, "sha256:aa", "sha256:aa") is unchanged
    code_only = diff.with_artifact(unchanged, "sha256:aa", "sha256:bb")
    assert not code_only.empty
    assert code_only.count("change") == len(before)
    assert {c.fields for c in code_only.changes} == {
        (diff.FieldChange("artifact", "sha256:aa", "sha256:bb"),)
    }
    assert '~ artifact: "sha256:aa" → "sha256:bb"' in rendered(code_only)
    both = diff.with_artifact(diff.plan(after, before), "sha256:aa", "sha256:bb")
    assert all(c.fields[0].path == "artifact" and len(c.fields) > 1 for c in both.changes)
