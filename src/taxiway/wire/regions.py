"""One region as ``GET /v1/regions`` answers it: the topology's facts and its satellite's last word. Pure.

The control plane renders the list; the CLI (:mod:`taxiway.client.regions`) reads each
entry with :class:`RegionEntry`. Reading is lenient (see :mod:`taxiway.wire.lenient`):
fields a control plane may not send yet are unknown, never a refusal.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from taxiway.wire import lenient


def _nodes(value: Any) -> list[list[str]]:
    if not isinstance(value, list):
        return []
    return [[str(part) for part in item] for item in value if isinstance(item, list)]


class RegionEntry(BaseModel):
    """One region of the topology and what its satellite last said."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    continent: lenient.Text = None
    driver: lenient.Text = None
    """The runtime driver the region's satellite uses (``local``, ``kubernetes``)."""
    last_seen: lenient.Text = None
    """When its satellite last reported (ISO 8601); ``null`` when never."""
    cursor: lenient.Whole = None
    api: lenient.Text = None
    """The satellite's own API (logs)."""
    ingress: lenient.Text = None
    """The region ingress the edges route to."""
    failed_nodes: Annotated[list[list[str]], BeforeValidator(_nodes)] = Field(default_factory=list)
    """``[datacenter, node]`` of each node marked failed."""
    report_every_seconds: lenient.Number = None
    """How often the satellite reports, where the control plane says."""
