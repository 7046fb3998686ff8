"""Text shapes the model's fields must have, and how a problem names each one. Pure.

:mod:`taxiway.spec.manifest` puts these patterns on its fields (so the JSON Schema has
them too); :mod:`taxiway.spec.validation` says "expected an absolute URL path ..." rather
than printing the regular expression back at the owner.
"""

from __future__ import annotations

URL_PATH = r"^/(?:[A-Za-z0-9._~!&()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*$"
"""An absolute URL path, optionally with a query: no spaces, control characters, quotes,
``#`` or ``$``; any other byte percent-encoded. What a check can send and HAProxy can carry."""

NAMES = {
    URL_PATH: (
        "an absolute URL path such as /health or /-/ready?deep=1 (no spaces, control "
        "characters, quotes, '#' or '$'; percent-encode anything else)"
    ),
}
"""Pattern -> the words a problem uses for it."""
