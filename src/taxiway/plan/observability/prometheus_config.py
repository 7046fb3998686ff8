"""What a regional or the global Prometheus loads: its configuration, as data. Pure.

A **regional** Prometheus (one per region, an observability unit) scrapes only its region:
the ingress HAProxy's exporter, the request log sink (the latency histograms), the
satellite, and each instance's own metrics. Its targets come from files the satellite
keeps (``file_sd``, :mod:`taxiway.plan.observability.scrape_targets`), its rules from the
rule files the satellite writes, so it needs nobody else to go on scraping, evaluating
and alerting while the control plane or the global Prometheus is down.

The **global** Prometheus scrapes the PoPs (HAProxy's exporter and the edge process), the
edges and the control plane, and receives each region's request series by **remote
write**, not federation: a regional Prometheus keeps unsent samples in its write-ahead log
and sends them once the global one answers again, so the global view catches up on the
gap (federation would only ever see the present). Only the series the global SLO rules
read cross (``write_relabel_configs`` keeps the ingress request counters and histogram
series), so the region keeps its detail and the global stays small.

Labels the platform sets: ``region`` on every regional target, ``pop`` on every PoP
target; HAProxy's ``proxy`` becomes ``service`` (internal proxies contain ``_``, which no
service name can), an ingress server's name gives ``revision``, a PoP server's name gives
the pool's ``region``. ``honor_labels`` stays off, so a service's own metrics can never
set them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxiway.plan.observability import names, promql_text

INGRESS_JOB = "taxiway-ingress"
REQUEST_LOG_JOB = "taxiway-request-log"
SATELLITE_JOB = "taxiway-satellite"
INSTANCES_JOB = "taxiway-instances"
POPS_JOB = "taxiway-pops"
EDGES_JOB = "taxiway-edges"
CONTROL_PLANE_JOB = "taxiway-control-plane"

REGIONAL_JOBS = (INGRESS_JOB, REQUEST_LOG_JOB, SATELLITE_JOB, INSTANCES_JOB)
GLOBAL_JOBS = (POPS_JOB, EDGES_JOB)
"""Jobs whose targets come from a file ``<targets dir>/<job>.json`` of the same name."""

TARGETS_DIR = "targets"
RULES_DIR = "rules"

REMOTE_WRITTEN = (
    f"{names.INGRESS_REQUESTS}|{names.INGRESS_DURATION}_(bucket|count|sum)"
    f"|{names.INGRESS_IN_FLIGHT}|{names.INGRESS_IN_ROTATION}"
)
"""The regional series the global Prometheus receives: what global SLOs and views read."""

SERVICE_PROXY = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?)"
"""An HAProxy proxy named after a service (a DNS label; internal proxies have ``_``)."""
INSTANCE_SERVER = r".*-r([0-9]+)(s[0-9a-f]{8})?-[0-9]+"
"""An ingress server: an instance id (:func:`taxiway.plan.region.reconcile.instance_id`)."""
POOL_SERVER = r"(fallback[.])?([a-z0-9-]+)"
"""A PoP server: a region pool, or that region's fallback."""


def _seconds(value: float) -> str:
    """A Prometheus duration of at least 1 ms, spelled as Prometheus spells it."""
    return promql_text.duration(max(1, round(value * 1000)))


@dataclass(frozen=True)
class Timing:
    scrape_interval: float = 15.0
    evaluation_interval: float = 15.0
    scrape_timeout: float | None = None
    """Defaults to the interval when that is below Prometheus's 10 s default."""
    file_refresh: float = 5.0
    """How often file_sd re-reads its files (it also watches them)."""

    def render(self) -> dict[str, Any]:
        timeout = self.scrape_timeout if self.scrape_timeout is not None else min(10.0, self.scrape_interval)
        return {
            "scrape_interval": _seconds(self.scrape_interval),
            "scrape_timeout": _seconds(min(timeout, self.scrape_interval)),
            "evaluation_interval": _seconds(self.evaluation_interval),
        }


@dataclass(frozen=True)
class Regional:
    region: str
    directory: Path
    """Where ``targets/`` and ``rules/`` are (the satellite's ``--prometheus-dir``)."""
    alertmanagers: tuple[str, ...] = ()
    """``host:port`` of each Alertmanager."""
    remote_write: str | None = None
    """The global Prometheus's ``/api/v1/write`` URL; ``None``: this region stands alone."""
    timing: Timing = field(default_factory=Timing)


@dataclass(frozen=True)
class ControlPlaneTarget:
    address: str
    """``host:port`` of the control plane's API."""
    token_file: Path
    """A ``metrics``-scope token; Prometheus reads it, the configuration never holds it."""
    scheme: str = "http"


@dataclass(frozen=True)
class Global:
    directory: Path
    alertmanagers: tuple[str, ...] = ()
    control_plane: ControlPlaneTarget | None = None
    timing: Timing = field(default_factory=Timing)


def _file_job(job: str, directory: Path, timing: Timing, **extra: Any) -> dict[str, Any]:
    return {
        "job_name": job,
        "file_sd_configs": [
            {
                "files": [str(directory / TARGETS_DIR / f"{job}.json")],
                "refresh_interval": _seconds(timing.file_refresh),
            }
        ],
        **extra,
    }


def _copy(source: str, regex: str, target: str, replacement: str = "$1") -> dict[str, Any]:
    return {
        "source_labels": [source],
        "regex": regex,
        "target_label": target,
        "replacement": replacement,
        "action": "replace",
    }


def _alerting(alertmanagers: tuple[str, ...]) -> dict[str, Any]:
    return (
        {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]} if alertmanagers else {}
    )


def regional(config: Regional) -> dict[str, Any]:
    """The configuration document of ``config.region``'s Prometheus."""
    haproxy_labels = [
        _copy("proxy", SERVICE_PROXY, names.SERVICE),
        _copy("server", INSTANCE_SERVER, names.REVISION),
    ]
    document: dict[str, Any] = {
        "global": {
            **config.timing.render(),
            "external_labels": {"taxiway_prometheus": f"region/{config.region}"},
        },
        "rule_files": [str(config.directory / RULES_DIR / "*.yml")],
        "scrape_configs": [
            _file_job(INGRESS_JOB, config.directory, config.timing, metric_relabel_configs=haproxy_labels),
            _file_job(REQUEST_LOG_JOB, config.directory, config.timing),
            _file_job(SATELLITE_JOB, config.directory, config.timing),
            _file_job(INSTANCES_JOB, config.directory, config.timing),
        ],
    }
    alerting = _alerting(config.alertmanagers)
    if alerting:
        document["alerting"] = alerting
    if config.remote_write is not None:
        document["remote_write"] = [
            {
                "url": config.remote_write,
                "write_relabel_configs": [
                    {"source_labels": ["__name__"], "regex": REMOTE_WRITTEN, "action": "keep"}
                ],
                "queue_config": {"batch_send_deadline": _seconds(min(5.0, config.timing.scrape_interval))},
            }
        ]
    return document


def global_(config: Global) -> dict[str, Any]:
    """The configuration document of the global Prometheus."""
    pop_labels = [
        _copy("proxy", SERVICE_PROXY, names.SERVICE),
        _copy("server", POOL_SERVER, names.REGION, "$2"),
    ]
    jobs: list[dict[str, Any]] = [
        _file_job(POPS_JOB, config.directory, config.timing, metric_relabel_configs=pop_labels),
        _file_job(EDGES_JOB, config.directory, config.timing),
    ]
    if config.control_plane is not None:
        jobs.append(
            {
                "job_name": CONTROL_PLANE_JOB,
                "scheme": config.control_plane.scheme,
                "authorization": {"type": "Bearer", "credentials_file": str(config.control_plane.token_file)},
                "static_configs": [{"targets": [config.control_plane.address]}],
            }
        )
    document: dict[str, Any] = {
        "global": {**config.timing.render(), "external_labels": {"taxiway_prometheus": "global"}},
        "rule_files": [str(config.directory / RULES_DIR / "*.yml")],
        "scrape_configs": jobs,
    }
    alerting = _alerting(config.alertmanagers)
    if alerting:
        document["alerting"] = alerting
    return document


def render(document: Mapping[str, Any]) -> str:
    """The file's text. JSON is YAML, and its quoting leaves no doubt about any value."""
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
