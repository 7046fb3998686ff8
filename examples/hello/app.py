"""hello: the example service Taxiway deploys. Standard library only.

Serves ``/`` with a greeting naming the region and revision it runs in, ``/health``
for probes and edge monitors, ``/metrics`` (its own counters, in Prometheus's text format,
which the region's Prometheus scrapes), and ``/status/<code>`` answering with that status code (how
the demo injects errors into one region's traffic); any other path is 404, and an HTTP/1.1 request without a
``Host`` header is 400, as RFC 9112 requires (and as uvicorn and gunicorn answer).
Listens on 127.0.0.1:$PORT, as the local runtime expects.
"""

import collections
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERED = collections.Counter()
LOCK = threading.Lock()


def metrics_text():
    lines = [
        "# HELP hello_responses_total Responses hello sent, by status code.",
        "# TYPE hello_responses_total counter",
    ]
    with LOCK:
        lines += [f'hello_responses_total{{code="{code}"}} {n}' for code, n in sorted(ANSWERED.items())]
    return ("\n".join(lines) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # peer's delayed ACK add about 40 ms to every response.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        region = os.environ.get("TAXIWAY_REGION", "unknown")
        path = self.path.split("?", 1)[0]
        if self.request_version == "HTTP/1.1" and "Host" not in self.headers:
            self.send_error(400, "HTTP/1.1 requests must carry a Host header")
            return
        status = 200
        if path == "/health":
            body = b"ok\n"
            content_type = "text/plain"
        elif path == "/metrics":
            body = metrics_text()
            content_type = "text/plain; version=0.0.4"
        elif path.startswith("/status/") and path[8:].isdigit() and 200 <= int(path[8:]) <= 599:
            status = int(path[8:])
            body = f"status {status}\n".encode()
            content_type = "text/plain"
        elif path != "/":
            self.send_error(404)
            return
        else:
            payload = {
                "greeting": os.environ.get("GREETING", "hello"),
                "service": os.environ.get("TAXIWAY_SERVICE", "hello"),
                "region": region,
                "revision": os.environ.get("TAXIWAY_REVISION"),
            }
            body = (json.dumps(payload) + "\n").encode()
            content_type = "application/json"
        with LOCK:
            ANSWERED[status] += 1
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Taxiway-Region", region)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(f"{self.address_string()} {format % args}", flush=True)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8080"))
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
