"""guestbook: a WSGI service under gunicorn, standard library plus gunicorn.

Answers ``/`` with a greeting naming its region and revision and ``/healthz`` for probes
and monitors; anything else is 404. gunicorn binds where ``gunicorn.conf.py`` says:
127.0.0.1:$PORT. Needs gunicorn importable by the python3 that runs it (the ``local``
runtime runs the host's interpreter; see docs/runtime-local.md).
"""

import json
import os
from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    region = os.environ.get("TAXIWAY_REGION", "unknown")
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        status, body, kind = "200 OK", b"ok\n", "text/plain"
    elif path == "/":
        payload = {
            "greeting": os.environ.get("GREETING", "hello"),
            "service": os.environ.get("TAXIWAY_SERVICE"),
            "region": region,
            "revision": os.environ.get("TAXIWAY_REVISION"),
            "server": "gunicorn",
        }
        status, body, kind = "200 OK", (json.dumps(payload) + "\n").encode(), "application/json"
    else:
        status, body, kind = "404 Not Found", b"not found\n", "text/plain"
    start_response(
        status,
        [("Content-Type", kind), ("Content-Length", str(len(body))), ("X-Taxiway-Region", region)],
    )
    return [body]
