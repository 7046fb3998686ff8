"""The dev world's observability units: a Prometheus per region, a global one, an Alertmanager.

Each runs as a child of the supervisor (:mod:`taxiway.dev.children`), from Debian's
binaries, on a loopback port ``dev up`` chose once (:class:`ObservabilityPorts`). Their
configuration files are written by ``dev up`` before the supervisor starts
(:func:`write_configs`): a region's Prometheus reads the targets and rules its satellite
keeps in ``DIR/observability/<region>/`` and remote-writes the request series to the
global one; the global Prometheus reads what the control plane keeps in
``DIR/observability/global/`` and scrapes the control plane with the world's ``metrics``
token; both alert to the Alertmanager, which delivers to the control plane's
``/v1/alerts`` with the world's ``alerts`` token. The token files are created by the
supervisor once the control plane answers (a child's ``needs``), so no configuration file
ever holds a token.
"""

from __future__ import annotations

from typing import Any

from taxiway.client.prometheus_api import PrometheusApi
from taxiway.dev import layout as paths
from taxiway.dev.settings import HOST, ObservabilityPorts, WorldSettings
from taxiway.observability import binaries
from taxiway.plan.observability import alertmanager_config as alertmanager_config_text
from taxiway.plan.observability import prometheus_config
from taxiway.system import atomic_file

CONFIG_FILE = "prometheus.yml"
ALERTMANAGER_CONFIG_FILE = "alertmanager.yml"
DATA_DIR = "data"


def _timing(settings: WorldSettings) -> prometheus_config.Timing:
    interval = settings.observability_interval
    return prometheus_config.Timing(
        scrape_interval=interval, evaluation_interval=interval, file_refresh=interval
    )


def _address(url: str) -> str:
    return url.split("://", 1)[1]


def regional_config(
    settings: WorldSettings, layout: paths.Layout, ports: ObservabilityPorts, region: str
) -> str:
    config = prometheus_config.Regional(
        region=region,
        directory=layout.prometheus_dir(region),
        alertmanagers=(_address(ports.alertmanager_url),),
        remote_write=f"{ports.prometheus_url(None)}/api/v1/write",
        timing=_timing(settings),
    )
    return prometheus_config.render(prometheus_config.regional(config))


def global_config(settings: WorldSettings, layout: paths.Layout, ports: ObservabilityPorts) -> str:
    config = prometheus_config.Global(
        directory=layout.prometheus_dir(None),
        alertmanagers=(_address(ports.alertmanager_url),),
        control_plane=prometheus_config.ControlPlaneTarget(
            address=f"{HOST}:{settings.control_plane_port}", token_file=layout.metrics_token_file
        ),
        timing=_timing(settings),
    )
    return prometheus_config.render(prometheus_config.global_(config))


def alertmanager_config(settings: WorldSettings, layout: paths.Layout) -> str:
    return alertmanager_config_text.render(
        settings.control_plane_url, str(layout.alerts_token_file), alertmanager_config_text.DEV_TIMING
    )


def write_configs(settings: WorldSettings, layout: paths.Layout) -> None:
    """Every unit's configuration file, from the world's settings (nothing else changes them)."""
    ports = settings.observability
    if ports is None:
        return
    texts = {
        layout.prometheus_dir(r) / CONFIG_FILE: regional_config(settings, layout, ports, r)
        for r in ports.regions
    }
    texts[layout.prometheus_dir(None) / CONFIG_FILE] = global_config(settings, layout, ports)
    texts[layout.alertmanager_dir / ALERTMANAGER_CONFIG_FILE] = alertmanager_config(settings, layout)
    for path, text in texts.items():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_file.write_text(path, text, mode=0o600)


def prometheus_argv(settings: WorldSettings, layout: paths.Layout, region: str | None) -> tuple[str, ...]:
    ports = settings.observability
    assert ports is not None
    directory = layout.prometheus_dir(region)
    return binaries.prometheus_argv(
        binaries.prometheus(),
        directory / CONFIG_FILE,
        directory / DATA_DIR,
        _address(ports.prometheus_url(region)),
        remote_write_receiver=region is None,
    )


def alertmanager_argv(settings: WorldSettings, layout: paths.Layout) -> tuple[str, ...]:
    ports = settings.observability
    assert ports is not None
    return binaries.alertmanager_argv(
        binaries.alertmanager(),
        layout.alertmanager_dir / ALERTMANAGER_CONFIG_FILE,
        layout.alertmanager_dir / DATA_DIR,
        _address(ports.alertmanager_url),
    )


def endpoints(settings: WorldSettings) -> list[tuple[str, str]]:
    """Each unit's supervisor name and URL, regions first."""
    ports = settings.observability
    if ports is None:
        return []
    return [
        *((paths.prometheus_name(r), ports.prometheus_url(r)) for r in settings.regions),
        (paths.GLOBAL_PROMETHEUS, ports.prometheus_url(None)),
        (paths.ALERTMANAGER, ports.alertmanager_url),
    ]


def urls(settings: WorldSettings) -> dict[str, Any]:
    """What ``dev.json`` and ``dev status`` say of them."""
    ports = settings.observability
    if ports is None:
        return {"prometheus": None, "alertmanager": None}
    return {"prometheus": {"global": ports.prometheus_url(None)}, "alertmanager": ports.alertmanager_url}


def ready(url: str) -> bool:
    """Whether the Prometheus or Alertmanager at ``url`` says it is ready (``/-/ready``,
    which both answer)."""
    with PrometheusApi(url, timeout=2.0) as api:
        return api.ready()
