"""``taxiway tokens create|list|revoke`` against a real control plane on a loopback socket.

The bearer string is printed once, on stdout only; nothing else ever shows it; a revoked
token is refused by the very next command that uses it.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures import cli_world
from tests.fixtures.cli_world import World, taxiway

world = cli_world.world  # the fixture: a control plane on a loopback socket


@pytest.fixture
def admin(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("TAXIWAY_TOKEN", world.tokens["admin"])
    return world


def test_create_list_revoke_and_the_token_is_refused_at_once(
    admin: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = taxiway(capsys, "tokens", "create", "hello-deploy", "--scope", "owner", "--service", "hello")
    assert created.code == 0, created.err
    bearer = created.out.strip()
    assert bearer.startswith("twy_")
    assert created.out == bearer + "\n", "stdout holds the token alone"
    assert bearer not in created.err
    assert "only time the token is shown" in created.err
    token_id = bearer.split("_")[1]
    assert f"owner token hello-deploy (id {token_id}) for hello" in created.err

    listed = taxiway(capsys, "tokens", "list")
    assert listed.code == 0, listed.err
    assert listed.out.splitlines()[0].split() == [
        "ID",
        "NAME",
        "SCOPE",
        "GRANTS",
        "CREATED",
        "BY",
        "CREATED",
        "REVOKED",
    ]
    [row] = [line for line in listed.out.splitlines() if line.startswith(token_id)]
    assert row.split()[:5] == [token_id, "hello-deploy", "owner", "hello", "admin:root"]
    assert row.split()[-1] == "-"
    as_json = taxiway(capsys, "tokens", "list", "--json")
    [mine] = [t for t in json.loads(as_json.out) if t["id"] == token_id]
    assert (mine["services"], mine["revoked_at"]) == (["hello"], None)
    secret = bearer.split("_", 2)[2]
    assert secret not in listed.out + as_json.out

    monkeypatch.setenv("TAXIWAY_TOKEN", bearer)
    assert taxiway(capsys, "revisions", "hello").code == 0
    monkeypatch.setenv("TAXIWAY_TOKEN", admin.tokens["admin"])
    revoked = taxiway(capsys, "tokens", "revoke", token_id)
    assert revoked.code == 0, revoked.err
    assert f"revoked owner token hello-deploy (id {token_id})" in revoked.out
    monkeypatch.setenv("TAXIWAY_TOKEN", bearer)
    refused = taxiway(capsys, "revisions", "hello")
    assert refused.code == 1
    assert "not authenticated" in refused.err
    assert "unknown or revoked" in refused.err

    monkeypatch.setenv("TAXIWAY_TOKEN", admin.tokens["admin"])
    again = taxiway(capsys, "tokens", "revoke", token_id, "--json")
    assert json.loads(again.out)["revoked_at"] is not None
    gone = taxiway(capsys, "tokens", "revoke", "0123456789abcdef")
    assert gone.code == 1
    assert "no token with id '0123456789abcdef'" in gone.err


def test_create_json_and_every_scope(admin: World, capsys: pytest.CaptureFixture[str]) -> None:
    for args, grants in (
        (["sat", "--scope", "satellite", "--region", "us-east1"], {"region": "us-east1"}),
        (["edge", "--scope", "edge", "--pop", "iad"], {"pop": "iad"}),
        (["ops", "--scope", "admin"], {}),
        (["alertmanager", "--scope", "alerts"], {"scope": "alerts", "services": [], "region": None}),
        (
            ["two", "--scope", "owner", "--service", "hello", "--service", "greeter"],
            {"services": ["hello", "greeter"]},
        ),
    ):
        created = taxiway(capsys, "tokens", "create", *args, "--json")
        assert created.code == 0, created.err
        answer = json.loads(created.out)
        assert answer["token"].startswith(f"twy_{answer['id']}_")
        assert {k: answer[k] for k in grants} == grants
        assert "only time the token is shown" in created.err
        assert answer["token"] not in created.err


def test_what_the_platform_does_not_have_is_refused_with_the_field_and_nothing_created(
    admin: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(admin.store.tokens())
    unknown = taxiway(
        capsys, "tokens", "create", "ci", "--scope", "owner", "--service", "hello", "--service", "nope"
    )
    assert unknown.code == 1
    assert unknown.out == ""
    assert "request: services[1]: no service named 'nope' in the inventory" in unknown.err
    assert "expected a service of the inventory: greeter, guestbook, hello" in unknown.err
    assert "taxiway services create nope" in unknown.err
    assert "1 problem in the request" in unknown.err
    region = taxiway(capsys, "tokens", "create", "s", "--scope", "satellite", "--region", "mars-north1")
    assert region.code == 1
    assert "request: region: no region 'mars-north1' in the topology" in region.err
    pop = taxiway(capsys, "tokens", "create", "e", "--scope", "edge", "--pop", "xyz")
    assert "request: pop: no PoP 'xyz' in the topology" in pop.err
    assert len(admin.store.tokens()) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "owner"], "--scope owner needs --service"),
        (["--scope", "satellite"], "--scope satellite needs --region"),
        (["--scope", "edge", "--region", "us-east1"], "--scope edge needs --pop"),
        (["--scope", "satellite", "--region", "us-east1", "--pop", "iad"], "drop --pop"),
        (["--scope", "admin", "--service", "hello"], "takes none of --service, --region, --pop"),
        (["--scope", "alerts", "--region", "us-east1"], "takes none of --service, --region, --pop"),
    ],
)
def test_scope_and_its_options_must_agree(
    admin: World, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    result = taxiway(capsys, "tokens", "create", "x", *args)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""


def test_an_owner_token_may_not_manage_tokens(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["list"], ["create", "x", "--scope", "admin"], ["revoke", "0123456789abcdef"]):
        result = taxiway(capsys, "tokens", *args)
        assert result.code == 1
        assert "this needs an admin token" in result.err
        assert result.out == ""
