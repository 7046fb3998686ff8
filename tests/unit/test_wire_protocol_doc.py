"""docs/protocol.md and taxiway.wire name the same fields: every JSON example, both ways."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from taxiway.wire import alerts, feed, pop_config, pop_status, problem, region_status
from tests.conftest import ROOT

PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()

EXAMPLES: dict[str, tuple[type[BaseModel], ...]] = {
    "## The definitions feed": (feed.Batch, feed.Item),
    "## Status (satellite": (region_status.Report, region_status.InstanceReport),
    "## Global load balancing": (
        pop_config.PopConfig,
        pop_config.Service,
        pop_config.Monitor,
        pop_config.Pool,
    ),
    "PUT /v1/pops/{pop}/status": (pop_status.PopStatus, pop_status.ServiceStatus, pop_status.PoolStatus),
    "## Alerts (Alertmanager": (alerts.Webhook, alerts.WebhookAlert),
    "`GET /v1/services/{service}/alerts": (alerts.RecordedAlert,),
}
"""Where each example starts (the first JSON block after this text), and its models. What
the PoP says of its HAProxy (``PopStatus.haproxy``) is a free-form object, not looked into;
nor are an alert's labels and annotations (any names, as the rules set them)."""
FREE_FORM = re.compile(r'("\w*(?:[Ll]abels|[Aa]nnotations)": )\{[^}]*\}')


def example_after(marker: str) -> str:
    start = PROTOCOL.index(marker)
    found = re.search(r"```json\n(.*?)```", PROTOCOL[start:], re.S)
    assert found is not None, f"no JSON example after {marker!r}"
    return found.group(1)


def keys(example: str) -> set[str]:
    return set(re.findall(r'"(\w+)":', example))


def fields(*models: type[BaseModel]) -> set[str]:
    return {name for model in models for name in model.model_fields}


@pytest.mark.parametrize("marker", sorted(EXAMPLES))
def test_every_example_names_exactly_its_models_fields(marker: str) -> None:
    example = example_after(marker)
    if marker.startswith("PUT /v1/pops"):
        example = example[: example.index('"haproxy"')] + '"haproxy":'
    named = keys(FREE_FORM.sub(r"\1{}", example))
    declared = fields(*EXAMPLES[marker])
    assert named - declared == set(), f"{marker}: the doc names fields the models lack"
    assert declared - named == set(), f"{marker}: the models have fields the doc does not show"


def test_the_problem_body_is_described_with_every_field_of_its_models() -> None:
    errors = PROTOCOL[PROTOCOL.index("Errors are") : PROTOCOL.index("A `405`")]
    named = set(re.findall(r"`(\w+)", errors))
    assert fields(problem.ProblemDocument, problem.ProblemItem) <= named


def test_the_status_put_bodies_name_their_models_fields() -> None:
    region = PROTOCOL[PROTOCOL.index("`PUT /v1/regions/{region}/status`") :]
    region = region[: region.index("`REPORT`")]
    assert set(region_status.RegionStatus.model_fields) - {"ingress"} <= keys(region)
    assert set(region_status.ServiceReport.model_fields) <= set(re.findall(r'"(\w+)"', region))
    assert '"ingress": "http://127.0.0.1:PORT"' in PROTOCOL  # told under global load balancing
