"""Filling a service past its retention and quota through the API over a real socket."""

from __future__ import annotations

import base64
import random
from typing import Any

from taxiway.plan import retention
from tests.fixtures.api_server import Api, hello_files, serve, tarball

KIB = 1024
POLICY = retention.Policy(keep_newest=3, quota_bytes=200 * KIB)


def body(seed: int, size: int = 60 * KIB) -> dict[str, Any]:
    data = tarball({"app/blob.bin": random.Random(seed).randbytes(size)})
    return {
        "files": hello_files(),
        "artifact": {"format": "tar.gz", "data": base64.b64encode(data).decode()},
    }


def point(api: Api, number: int, version: int) -> None:
    done = api.call(
        "PUT",
        "/v1/services/hello/environments/production",
        "owner",
        json={"revision": number, "expected_version": version},
    )
    assert done.status_code == 200, done.text
    regions = api.call("GET", f"/v1/services/hello/revisions/{number}", "owner").json()["definitions"]
    for region in regions["production"]:
        report = {"revision": number, "phase": "ready", "message": "ready", "instances": []}
        status = {
            "cursor": 0,
            "reports": [{"service": "hello", "environment": "production", "report": report}],
        }
        answered = api.call("PUT", f"/v1/regions/{region}/status", "admin", json=status)
        assert answered.status_code == 204, answered.text


def test_a_service_filled_past_its_quota_is_refused_and_keeps_what_it_runs(store_url: str) -> None:
    with serve(store_url, POLICY) as api:
        numbers = []
        for seed in range(1, 7):
            created = api.call("POST", "/v1/services/hello/revisions", "owner", json=body(seed))
            assert created.status_code == 201, created.text
            numbers.append(created.json()["number"])
            if seed <= 2:
                point(api, numbers[-1], seed - 1)  # production runs 2, would roll back to 1
        listed = {r["number"]: r for r in api.call("GET", "/v1/services/hello/revisions", "owner").json()}
        kept = sorted(n for n, r in listed.items() if r["pruned_at"] is None)
        assert kept == [1, 2, 6], "newest 3 by count, then the quota drops the oldest unneeded"
        storage = api.call("GET", "/v1/services/hello/storage", "owner").json()
        assert storage["artifact_bytes"] <= POLICY.quota_bytes
        assert {k["revision"]: k["why"] for k in storage["kept"]}[2] == "production runs it"
        for pruned in (3, 4, 5):
            gone = api.call("GET", f"/v1/artifacts/{listed[pruned]['artifact']}", "admin")
            assert gone.status_code == 404

        # With 6 running and 2 its rollback target (120 KiB), a 100 KiB artifact cannot fit.
        point(api, 6, 2)
        refused = api.call("POST", "/v1/services/hello/revisions", "owner", json=body(99, 100 * KIB))
        assert refused.status_code == 413, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["code"] == "quota-exceeded"
        assert "Nothing was stored" in problem["detail"]
        assert "taxiway server --artifact-quota" in problem["detail"]
        after = api.call("GET", "/v1/services/hello/revisions", "owner").json()
        assert [r["number"] for r in after] == sorted(listed), "no revision was stored"

        stale = api.call(
            "PUT",
            "/v1/services/hello/environments/production",
            "owner",
            json={"revision": 3, "expected_version": 3},
        )
        assert stale.status_code == 404
        assert "was pruned" in stale.json()["detail"]
