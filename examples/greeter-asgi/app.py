"""greeter: an ASGI service (Starlette under uvicorn), the shape most FastAPI apps have.

Answers ``/`` with a greeting naming its region and revision and ``/-/ready`` for probes
and monitors. uvicorn answers 400 to an HTTP/1.1 request without ``Host``, as RFC 9112
asks; Taxiway's checks send one. Needs starlette and uvicorn importable by the python3
that runs it (the ``local`` runtime runs the host's interpreter; see
docs/runtime-local.md). Listens on 127.0.0.1:$PORT.
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def greet(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "greeting": os.environ.get("GREETING", "hello"),
            "service": os.environ.get("TAXIWAY_SERVICE"),
            "region": os.environ.get("TAXIWAY_REGION"),
            "revision": os.environ.get("TAXIWAY_REVISION"),
            "server": "uvicorn",
        },
        headers={"X-Taxiway-Region": os.environ.get("TAXIWAY_REGION", "unknown")},
    )


async def ready(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


app = Starlette(routes=[Route("/", greet), Route("/-/ready", ready)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="info")
