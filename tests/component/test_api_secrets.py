"""The secrets API over a real socket: scopes, problem+json, sealing, refusal, republishing.

The value set here must come back in no answer but the region's own definitions feed.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from taxiway.store.tables import revisions, secrets
from tests.fixtures.api_server import Api, hello_files

VALUE = "s3cr3t-value-4a7f9c"
PATH = "/v1/services/hello/environments/production/secrets/DB_PASSWORD"
SECRET_ROUTES = [
    ("GET", "/v1/services/hello/secrets", None),
    ("PUT", PATH, {"value": VALUE}),
    ("DELETE", PATH, None),
]


def files_naming(*names: str) -> dict[str, str]:
    files = hello_files()
    text = files["service.yaml"]
    assert "  probes:\n" in text
    files["service.yaml"] = text.replace("  probes:\n", f"  secrets: [{', '.join(names)}]\n  probes:\n", 1)
    return files


def point(api: Api, number: int, version: int = 0) -> httpx.Response:
    return api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": version},
    )


def create(api: Api, files: dict[str, str]) -> int:
    created = api.call("POST", "/v1/services/hello/revisions", "owner", json={"files": files})
    assert created.status_code == 201, created.text
    number: int = created.json()["number"]
    return number


def env_of(api: Api, who: str, name: str, after: int = 0) -> Any:
    body = api.call("GET", f"/v1/regions/us-east1/definitions?after={after}", who).json()
    (item,) = body["items"]
    return item["definition"]["spec"]["env"].get(name), body["cursor"]


@pytest.mark.parametrize(("method", "path", "body"), SECRET_ROUTES)
def test_secret_routes_need_a_token_and_the_service_owner_or_an_admin(
    api: Api, method: str, path: str, body: Any
) -> None:
    anonymous = api.call(method, path, None, json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    for who in ("stranger", "us", "eu", "iad"):
        response = api.call(method, path, who, json=body)
        assert response.status_code == 403, (who, response.text)
        assert response.json()["code"] == "forbidden"
    assert api.call("PUT", PATH, "admin", json={"value": VALUE}).status_code == 200
    assert api.call(method, path, "owner", json=body).status_code == 200


def test_a_value_is_sealed_at_rest_and_answered_to_nobody(api: Api) -> None:
    answers = []
    response = api.call("PUT", PATH, "owner", json={"value": VALUE})
    assert response.status_code == 200, response.text
    answers.append(response.text)
    body = response.json()
    assert (body["name"], body["environment"], body["version"], body["set_by"]) == (
        "DB_PASSWORD",
        "production",
        1,
        "owner:hello-ci",
    )
    assert body["digest"].startswith("hmac-sha256:")
    assert body["regions"] == []
    listed = api.call("GET", "/v1/services/hello/secrets", "owner")
    answers.append(listed.text)
    assert [(s["name"], s["version"], s["digest"]) for s in listed.json()] == [
        ("DB_PASSWORD", 1, body["digest"])
    ]
    assert api.call("GET", "/v1/services/hello/secrets?environment=staging", "owner").json() == []
    answers.append(api.call("GET", "/v1/audit", "admin").text)
    assert all(VALUE not in text for text in answers)
    assert all("sealed" not in text for text in answers[:2])
    with api.store.engine.connect() as c:
        stored = json.dumps([list(map(str, row)) for row in c.execute(sa.select(secrets))])
    assert VALUE not in stored
    assert "gAAAA" in stored, "the value is sealed with the control plane's key (Fernet)"


def test_bad_requests_are_problems_without_the_value(api: Api) -> None:
    empty = api.call("PUT", PATH, "owner", json={"value": ""})
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"
    lower = api.call(
        "PUT", "/v1/services/hello/environments/production/secrets/db", "owner", json={"value": VALUE}
    )
    assert lower.status_code == 422
    assert VALUE not in lower.text
    nowhere = api.call(
        "PUT", "/v1/services/hello/environments/qa/secrets/DB_PASSWORD", "owner", json={"value": VALUE}
    )
    assert nowhere.status_code == 404
    assert nowhere.json()["code"] == "not-found"
    assert api.call("DELETE", PATH, "owner").status_code == 404


def test_a_deploy_naming_a_secret_without_a_value_is_refused_with_the_command(api: Api) -> None:
    number = create(api, files_naming("DB_PASSWORD", "API_KEY"))
    api.call("PUT", PATH, "owner", json={"value": VALUE})
    before = api.store.cursor()
    refused = point(api, number)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "validation-failed"
    (missing,) = problem["problems"]
    assert missing["message"] == "secret API_KEY has no value in production; nothing was changed"
    assert "`taxiway secrets set hello API_KEY --env production`" in missing["hint"]
    assert missing["field"] == "spec.secrets[1]"
    assert api.call("GET", "/v1/services/hello/environments/production", "owner").status_code == 404
    assert api.store.cursor() == before


def test_set_and_unset_reach_only_the_region_and_change_its_definition(api: Api) -> None:
    api.call("PUT", PATH, "owner", json={"value": VALUE})
    assert point(api, create(api, files_naming("DB_PASSWORD"))).status_code == 200
    mine, cursor = env_of(api, "us", "DB_PASSWORD")
    assert mine["value"] == VALUE
    assert mine["digest"].startswith("hmac-sha256:")
    seen_by_admin, _ = env_of(api, "admin", "DB_PASSWORD")
    assert seen_by_admin == {"secret": True, "digest": mine["digest"]}
    revision = api.call("GET", "/v1/services/hello/revisions/1", "owner").text
    assert VALUE not in revision
    assert "DB_PASSWORD" in revision  # named in spec.secrets, never valued in the revision

    changed = api.call("PUT", PATH, "owner", json={"value": VALUE + "-2"}).json()
    assert (changed["version"], changed["regions"]) == (2, ["asia-northeast3", "europe-west1", "us-east1"])
    rotated, later = env_of(api, "us", "DB_PASSWORD", after=cursor)
    assert rotated["value"] == VALUE + "-2"
    assert rotated["digest"] != mine["digest"]

    unset = api.call("DELETE", PATH, "owner").json()
    assert (unset["version"], unset["digest"]) == (3, None)
    gone, _ = env_of(api, "us", "DB_PASSWORD", after=later)
    assert gone is None


def test_an_upload_for_an_environment_missing_a_secret_stores_nothing(api: Api) -> None:
    path = "/v1/services/hello/revisions?environment=production"
    refused = api.call("POST", path, "owner", json={"files": files_naming("DB_PASSWORD")})
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["message"].startswith(
        "secret DB_PASSWORD has no value in production"
    )
    assert api.store.revisions("hello") == []
    staging = api.call(
        "POST", "/v1/services/hello/revisions?environment=staging", "owner", json={"files": hello_files()}
    )
    assert staging.status_code == 201, "a manifest naming no secret needs none"


def test_a_secret_for_an_environment_the_service_does_not_run_in_is_refused(api: Api) -> None:
    entry = dict(api.store.service("hello").entry)
    api.store.sync_services({"hello": {**entry, "environments": ["production"]}}, actor="test")
    path = "/v1/services/hello/environments/staging/secrets/DB_PASSWORD"
    refused = api.call("PUT", path, "owner", json={"value": VALUE})
    assert refused.status_code == 404
    assert refused.json()["detail"] == (
        "hello does not run in staging; its environments in the inventory: production"
    )
    assert api.store.secrets("hello") == []


# -- keyed digests ---------------------------------------------------------------------------

MANIFEST_VALUE = "not-a-real-token"
"""The example's API_TOKEN: four dictionary words, what a bare SHA-256 gave away."""


def bare(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_equal_values_in_two_services_show_different_digests(api: Api) -> None:
    digests = set()
    for service in ("hello", "greeter"):
        path = f"/v1/services/{service}/environments/production/secrets/DB_PASSWORD"
        answer = api.call("PUT", path, "admin", json={"value": VALUE})
        assert answer.status_code == 200, answer.text
        digests.add(answer.json()["digest"])
        assert bare(VALUE) not in answer.text
    assert len(digests) == 2, "equal values must not show as equal across services"


def test_no_answer_carries_a_bare_digest_of_a_manifest_secret(api: Api) -> None:
    number = create(api, hello_files())
    assert point(api, number).status_code == 200
    revision = api.call("GET", f"/v1/services/hello/revisions/{number}", "owner")
    shown = revision.json()["definitions"]["production"]["us-east1"]["spec"]["env"]["API_TOKEN"]
    assert shown["digest"].startswith("hmac-sha256:")
    answers = [
        revision.text,
        api.call("GET", "/v1/services/hello/revisions", "owner").text,
        api.call("GET", "/v1/regions/us-east1/definitions", "admin").text,
        api.call("GET", "/v1/audit", "admin").text,
    ]
    for text in answers:
        assert bare(MANIFEST_VALUE) not in text
        assert MANIFEST_VALUE not in text
    # The revision's content digest is over keyed digests too: the same files, another key,
    # another content digest (a bare one would be the same under every installation).
    assert revision.json()["digest"] != _content_digest_with_bare_secrets(api, number)


def _content_digest_with_bare_secrets(api: Api, number: int) -> str:
    from taxiway.server import uploads

    stored = api.store.revision("hello", number)
    plain: dict[str, dict[str, Any]] = {}
    for environment, by_region in stored.definitions.items():
        plain[environment] = {}
        for region, document in by_region.items():
            copy = json.loads(json.dumps(document))
            copy["spec"]["env"]["API_TOKEN"]["digest"] = "sha256:" + bare(MANIFEST_VALUE)
            plain[environment][region] = copy
    return uploads.content_digest(plain, stored.artifact)


def test_a_revision_stored_with_bare_digests_is_shown_keyed_and_still_runs(api: Api) -> None:
    number = create(api, hello_files())
    keyed = api.call("GET", f"/v1/services/hello/revisions/{number}", "owner").json()
    # What an older control plane stored: the same sealed value, its bare digest beside it.
    with api.store.engine.begin() as c:
        stored = c.execute(sa.select(revisions.c.definitions).where(revisions.c.number == number)).scalar()
        text = json.dumps(stored)
        for digest in set(re.findall(r'"(hmac-sha256:[0-9a-f]{64})"', text)):
            text = text.replace(digest, "sha256:" + bare(MANIFEST_VALUE))
        c.execute(revisions.update().where(revisions.c.number == number).values(definitions=json.loads(text)))
    assert "sha256:" + bare(MANIFEST_VALUE) in json.dumps(api.store.revision("hello", number).definitions)
    again = api.call("GET", f"/v1/services/hello/revisions/{number}", "owner")
    assert bare(MANIFEST_VALUE) not in again.text
    assert again.json()["definitions"] == keyed["definitions"], "shown keyed, as a new upload would be"
    assert point(api, number).status_code == 200
    env, _cursor = env_of(api, "us", "API_TOKEN")
    assert env["value"] == MANIFEST_VALUE, "the region still runs it"


DIGESTS = "/v1/services/hello/environments/production/secret-digests"


def test_the_control_plane_keys_a_clients_values_for_its_own_service_only(api: Api) -> None:
    number = create(api, hello_files())
    stored = api.call("GET", f"/v1/services/hello/revisions/{number}", "owner").json()
    expected = stored["definitions"]["production"]["us-east1"]["spec"]["env"]["API_TOKEN"]["digest"]
    body = {"values": [{"name": "API_TOKEN", "value": MANIFEST_VALUE}, {"name": "API_TOKEN", "value": "x"}]}
    answer = api.call("POST", DIGESTS, "owner", json=body)
    assert answer.status_code == 200, answer.text
    digests = answer.json()["digests"]
    assert digests[0] == expected
    assert digests[1] != expected
    assert api.call("POST", DIGESTS, None, json=body).status_code == 401
    assert api.call("POST", DIGESTS, "stranger", json=body).status_code == 403
    assert api.call("POST", DIGESTS, "us", json=body).status_code == 403
    wrong = api.call("POST", DIGESTS.replace("production", "qa"), "owner", json=body)
    assert wrong.status_code == 404
    too_many = {"values": [{"name": "A", "value": "x"}] * 257}
    refused = api.call("POST", DIGESTS, "owner", json=too_many)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    bad_name = api.call("POST", DIGESTS, "owner", json={"values": [{"name": "a b", "value": VALUE}]})
    assert bad_name.status_code == 422
    assert VALUE not in bad_name.text
