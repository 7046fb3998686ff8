"""Running one probe against an instance: HTTP GET or TCP connect, bounded by its timeout.

Called by drivers that probe instances themselves (``local``); the verdicts over time are
computed purely in :mod:`taxiway.plan.region.health`. HTTP uses httpx with redirects off and
no proxies from the environment (a probe must reach the instance, never a proxy); any
status in 200–399 passes, as in Kubernetes. Probes only ever reach loopback addresses
here, so one short-lived client per probe costs little and shares no state.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import httpx

from taxiway.spec import manifest


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    error: str | None = None


def check(probe: manifest.Probe, host: str, port: int) -> ProbeResult:
    """Run ``probe`` once against ``host:port``; never raises for an unhealthy instance."""
    timeout = float(probe.timeout_seconds)
    if probe.protocol == "tcp":
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return ProbeResult(ok=True)
        except OSError as exc:
            return ProbeResult(ok=False, error=f"tcp connect to {host}:{port}: {exc.strerror or exc}")
    url = f"http://{host}:{port}{probe.path}"
    try:
        with httpx.Client(timeout=timeout, trust_env=False, follow_redirects=False) as client:
            response = client.get(url, headers={"User-Agent": manifest.CHECK_USER_AGENT})
    except httpx.TimeoutException:
        return ProbeResult(ok=False, error=f"GET {url!r}: no answer within {timeout:g}s")
    except Exception as exc:  # an owner's probe (a path httpx refuses, say) never breaks a tick
        return ProbeResult(ok=False, error=f"GET {url!r}: {type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 400:
        return ProbeResult(ok=True)
    return ProbeResult(ok=False, error=f"GET {url}: HTTP {response.status_code}")
