"""The part of this process's environment a child process it starts may see.

Called wherever Taxiway starts a program: an instance (:mod:`taxiway.runtime.local`) and
an HAProxy (the region ingress, the edge). The satellite's and the edge's environment
holds their token (``TAXIWAY_TOKEN``); a child sees only these variables, never that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


def passthrough(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The :data:`PASSTHROUGH_ENV` variables set in ``environ`` (default: ours)."""
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in PASSTHROUGH_ENV if name in environ}
