"""Reading a Prometheus through its HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

Used by ``taxiway slo status`` and the tests: every regional Prometheus and the global one
answer the same queries. A Prometheus that does not answer is
:class:`~taxiway.client.http.Unreachable` naming its URL; an answer that is not the API's
shape, or a query it refuses, is a :class:`~taxiway.errors.ProtocolError` with
Prometheus's own error text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from taxiway.client import http
from taxiway.errors import ProtocolError
from taxiway.plan.observability.samples import Sample, Series


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class PrometheusApi:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PrometheusApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        what = f"GET {path}"
        with http.translated(what, f"the Prometheus at {self.url}"):
            answer = self._client.get(path, params=params)
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if answer.status_code >= 500:
                raise http.Unreachable(f"{what}: the Prometheus at {self.url} answered {answer.status_code}")
            raise ProtocolError(
                f"{what}: the Prometheus at {self.url} answered {answer.status_code}, not JSON"
            )
        if body.get("status") != "success":
            raise ProtocolError(
                f"{what} {params.get('query', '')!r}: {body.get('error') or body.get('status')}"
            )
        return body.get("data")

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """An instant vector (a scalar answer is one sample without labels)."""
        params = {"query": expr, **({"time": repr(at)} if at is not None else {})}
        data = self._get("/api/v1/query", params)
        kind = data.get("resultType") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            return [Sample({}, _number(result[1]))]
        if kind != "vector" or not isinstance(result, list):
            raise ProtocolError(f"query {expr!r}: expected a vector from {self.url}, got {kind}")
        return [
            Sample(dict(item.get("metric") or {}), _number((item.get("value") or [None, None])[1]))
            for item in result
            if isinstance(item, dict)
        ]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        params = {"query": expr, "start": repr(start), "end": repr(end), "step": repr(max(step, 0.001))}
        data = self._get("/api/v1/query_range", params)
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list):
            raise ProtocolError(f"query_range {expr!r}: expected a matrix from {self.url}")
        return [
            Series(
                dict(item.get("metric") or {}),
                tuple((float(t), _number(v)) for t, v in item.get("values") or ()),
            )
            for item in result
            if isinstance(item, dict)
        ]

    def ready(self) -> bool:
        try:
            return self._client.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False
