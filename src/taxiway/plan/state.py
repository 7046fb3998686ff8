"""What runs now, as a list of regional definitions (a state document).

Until the control plane answers this question, ``taxiway plan --state FILE`` reads it from
a file: the JSON or YAML ``taxiway render --format json`` prints is a valid state, so a
plan against a fresh render is empty.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taxiway.plan.regional import RegionalDefinition
from taxiway.spec.manifest import Model


class State(Model):
    api_version: Literal["taxiway/v1"] = Field(default="taxiway/v1", alias="apiVersion")
    kind: Literal["State"] = "State"
    definitions: list[RegionalDefinition] = Field(default_factory=list)

    def by_key(self) -> dict[tuple[str, str, str], RegionalDefinition]:
        return {d.key: d for d in self.definitions}
