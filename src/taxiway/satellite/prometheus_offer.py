"""What the region's Prometheus should scrape and evaluate, from what the satellite knows.

Computed on the reconciler's thread after every tick (cheap: no I/O) and handed to the
satellite's :class:`~taxiway.observability.publish_loop.PublishLoop`, which writes it to
``--prometheus-dir``. Targets: the ingress HAProxy's exporter, the satellite's own API
(``/metrics``), and each running instance at its service's ``observability.metrics``
(path, and port — the instance's own port unless the manifest names one); the platform's
labels go on each (:mod:`taxiway.plan.observability.scrape_targets`). Rules: one file per
service and environment with SLOs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from taxiway.observability.publish_loop import Offer
from taxiway.plan import regional
from taxiway.plan.observability import scrape_targets
from taxiway.plan.region import instance_spec

RuleFiles = Callable[[Sequence[regional.RegionalDefinition]], Mapping[str, str]]
"""The rule files (name → text) for the definitions a region runs."""


def address(url: str | None) -> str | None:
    """``host:port`` of an ``http://host:port/...`` URL."""
    return urlsplit(url).netloc or None if url else None


def _metrics_port(definition: regional.RegionalDefinition, own_port: int) -> int:
    """The instance's own port, unless the manifest names another: derivation fills the
    metrics port in with ``container_port``, and the local runtime gives each instance a
    port of its own in its place."""
    port = definition.spec.observability.metrics.port
    return own_port if port is None or port == definition.spec.container_port else port


def instance_targets(
    host: str,
    instances: Iterable[instance_spec.Instance],
    definitions: Iterable[regional.RegionalDefinition],
) -> list[scrape_targets.InstanceTarget]:
    by_key: dict[tuple[str, str], regional.RegionalDefinition] = {
        (d.service, d.environment): d for d in definitions
    }
    targets = []
    for instance in instances:
        wanted = by_key.get((instance.service, instance.environment))
        if instance.state != instance_spec.InstanceState.RUNNING or instance.port is None or wanted is None:
            continue
        targets.append(
            scrape_targets.InstanceTarget(
                service=instance.service,
                environment=instance.environment,
                revision=instance.revision,
                instance=instance.instance_id,
                address=f"{host}:{_metrics_port(wanted, instance.port)}",
                metrics_path=wanted.spec.observability.metrics.path,
            )
        )
    return targets


def offer(
    region: str,
    *,
    instance_host: str,
    satellite_api: str,
    ingress_metrics: str | None,
    request_log_metrics: str | None,
    instances: Sequence[instance_spec.Instance],
    definitions: Sequence[regional.RegionalDefinition],
    rule_files: RuleFiles,
) -> Offer:
    targets = scrape_targets.regional(
        region,
        ingress=address(ingress_metrics),
        request_log=address(request_log_metrics),
        satellite=address(satellite_api),
        instances=instance_targets(instance_host, instances, definitions),
    )
    return Offer(targets=targets, rules=dict(rule_files(definitions)))
