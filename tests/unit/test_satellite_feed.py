"""Checking feed answers and satellite settings: wrong shapes are errors, absent fields unknown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taxiway.agent import agent_flags
from taxiway.errors import ConfigurationError, ProtocolError
from taxiway.satellite import settings
from taxiway.spec import topology
from taxiway.wire import feed

DIGEST = "sha256:" + "ab" * 32


def answer(**overrides: Any) -> dict[str, Any]:
    item = {
        "service": "hello",
        "environment": "production",
        "revision": 3,
        "seq": 42,
        "artifact": DIGEST,
        "definition": {"service": "hello"},
    }
    body: dict[str, Any] = {"region": "us-east1", "cursor": 42, "failed_nodes": [["us-east1-b", "node-1"]]}
    body["items"] = [item]
    body.update(overrides)
    return body


def test_a_full_answer_parses() -> None:
    batch = feed.parse(answer(), "us-east1")
    assert batch.cursor == 42
    assert batch.failed_nodes == frozenset({("us-east1-b", "node-1")})
    (item,) = batch.items
    assert (item.key, item.revision, item.seq, item.artifact) == (("hello", "production"), 3, 42, DIGEST)


def test_absent_optional_fields_mean_unknown_not_empty() -> None:
    body = answer()
    del body["failed_nodes"]
    del body["items"][0]["artifact"]
    batch = feed.parse(body, "us-east1")
    assert batch.failed_nodes is None
    assert batch.items[0].artifact is None


def test_only_an_explicit_null_is_a_tombstone() -> None:
    tombstone = answer()
    tombstone["items"][0]["definition"] = None
    assert feed.parse(tombstone, "us-east1").items[0].definition is None
    missing = answer()
    del missing["items"][0]["definition"]
    with pytest.raises(ProtocolError, match=r"items\[0\] has no definition"):
        feed.parse(missing, "us-east1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "not an object"),
        (answer(region="europe-west1"), "not 'us-east1'"),
        (answer(cursor=-1), "cursor"),
        (answer(cursor="7"), "cursor"),
        (answer(items=None), "items is not a list"),
        (answer(items=[{"service": "hello"}]), "items"),
        (answer(failed_nodes=[["only-one"]]), "failed_nodes"),
    ],
)
def test_malformed_answers_are_protocol_errors(body: Any, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        feed.parse(body, "us-east1")


def test_a_bad_artifact_digest_is_refused() -> None:
    body = answer()
    body["items"][0]["artifact"] = "sha256:../../etc"
    with pytest.raises(ProtocolError, match="artifact"):
        feed.parse(body, "us-east1")


def test_the_token_never_shows_in_a_repr(tmp_path: Path) -> None:
    configured = settings.SatelliteSettings(
        region="us-east1", control_plane="http://127.0.0.1:7700", token="twy_secret_x", state_dir=tmp_path
    )
    assert "twy_secret_x" not in repr(configured)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:8080", ("::1", 8080)), ("0.0.0.0:7701", ("0.0.0.0", 7701))],
)
def test_listen_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert agent_flags.parse_listen(text) == expected


@pytest.mark.parametrize("text", ["7701", "localhost:", ":80", "host:99999"])
def test_bad_listen_addresses_are_clear_errors(text: str) -> None:
    with pytest.raises(ConfigurationError, match="HOST:PORT"):
        agent_flags.parse_listen(text)


def test_an_unknown_region_names_the_known_ones() -> None:
    world = topology.Topology.model_validate(
        {
            "apiVersion": "taxiway/v1",
            "kind": "Topology",
            "continents": [
                {
                    "name": "americas",
                    "regions": [
                        {
                            "name": "us-east1",
                            "datacenters": [
                                {
                                    "name": "us-east1-b",
                                    "nodes": [
                                        {
                                            "name": "n1",
                                            "capacity": {"cpu": "1", "memory": "1Gi", "max_instances": 1},
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        },
        strict=False,
    )
    assert settings.region_of(world, "us-east1", "t.yaml").name == "us-east1"
    with pytest.raises(
        ConfigurationError, match=r"region 'mars-north1' is not in the topology t.yaml.*us-east1"
    ):
        settings.region_of(world, "mars-north1", "t.yaml")


@pytest.mark.parametrize(
    ("where", "value"),
    [("cursor", 2**63), ("cursor", 2**53), ("seq", 2**64), ("revision", 10**30), ("revision", -1)],
)
def test_numbers_past_2_53_are_refused_before_the_store_sees_them(where: str, value: int) -> None:
    body = answer(cursor=value) if where == "cursor" else answer()
    if where != "cursor":
        body["items"][0][where] = value
    with pytest.raises(ProtocolError, match=rf"{where} is .*expected a whole number 0 to 2\^53-1"):
        feed.parse(body, "us-east1")


def test_the_largest_number_passes() -> None:
    assert feed.parse(answer(cursor=2**53 - 1), "us-east1").cursor == 2**53 - 1


@pytest.mark.parametrize(
    "change",
    [
        lambda body: body["items"][0].update(service="hello\ud800"),
        lambda body: body["items"][0].update(environment="\ud800"),
        lambda body: body["items"][0].update(definition={"env": {"KEY": "value \ud800"}}),
        lambda body: body.update(failed_nodes=[["us-east1-b", "\udfff"]]),
    ],
)
def test_text_with_a_lone_surrogate_is_refused(change: Any) -> None:
    body = answer()
    change(body)
    with pytest.raises(ProtocolError, match="not valid Unicode"):
        feed.parse(body, "us-east1")
