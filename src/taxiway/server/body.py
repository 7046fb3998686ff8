"""The base of the control plane's request bodies: a field the API does not know is refused.

The routers' request models (:mod:`taxiway.server.service_routes`,
:mod:`taxiway.server.region_routes`, :mod:`taxiway.server.pop_routes`) derive from
:class:`Body`, so a misspelt field is a 422 naming it rather than silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
