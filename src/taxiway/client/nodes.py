"""Marking a node failed or ready (``taxiway chaos``): the node's reference and the call.

A failed node's instances are stopped by its region's satellite and placed on healthy
nodes; marking it ready again lets placement use it. Admin tokens only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from taxiway.client.http import ControlPlane

NodeState = Literal["failed", "ready"]
_PART = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_REF = re.compile(rf"^({_PART})/({_PART})/({_PART})$")


@dataclass(frozen=True)
class NodeRef:
    region: str
    datacenter: str
    node: str

    @classmethod
    def parse(cls, text: str) -> NodeRef:
        """``REGION/DATACENTER/NODE``; a ``ValueError`` saying what was expected otherwise."""
        match = _REF.match(text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a node reference; expected REGION/DATACENTER/NODE, "
                "e.g. us-east1/us-east1-b/node-1"
            )
        return cls(match.group(1), match.group(2), match.group(3))

    def __str__(self) -> str:
        return f"{self.region}/{self.datacenter}/{self.node}"


def set_state(cp: ControlPlane, ref: NodeRef, state: NodeState) -> Any:
    return cp.put(f"/v1/regions/{ref.region}/nodes/{ref.datacenter}/{ref.node}", {"state": state})
