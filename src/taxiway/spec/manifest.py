"""The service manifest: ``apiVersion: taxiway/v1``, ``kind: Service``.

A service owner keeps one in the service's repository as ``.taxiway/service.yaml``. These
models are the single source of truth for its shape: validation, defaults, the exported
JSON Schema and the generated reference docs all come from them. Checks that need more
than one field (min ≤ max, an override naming a region the service is not in) live in
:mod:`taxiway.spec.checks`, so every problem is reported at once with its location.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    model_validator,
)

from taxiway.spec import patterns, units

API_VERSION = "taxiway/v1"
ENVIRONMENTS: tuple[str, ...] = ("staging", "production")
"""Environments in promotion order: staging gates production."""

# Names injected into every instance by the platform; a manifest may not set them.
RESERVED_ENV = (
    "PORT",
    "TAXIWAY_ENVIRONMENT",
    "TAXIWAY_REGION",
    "TAXIWAY_REVISION",
    "TAXIWAY_SERVICE",
)

DNS_LABEL = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
REGION_NAME = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
SECRET_NAME = r"^[A-Z][A-Z0-9_]*$"
LABEL_KEY = r"^[a-z0-9]([-a-z0-9_./]{0,61}[a-z0-9])?$"
EXPECTED_CODES = r"^([1-5]([0-9]{2}|xx))(,[1-5]([0-9]{2}|xx))*$"


class Model(BaseModel):
    """Base for every manifest model: unknown fields rejected, types exact, values frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


UrlPath = Annotated[
    str,
    Field(
        pattern=patterns.URL_PATH,
        max_length=1024,
        json_schema_extra={"examples": ["/health", "/-/ready?deep=1"]},
    ),
]
DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, min_length=1, max_length=63)]
RegionName = Annotated[str, Field(pattern=REGION_NAME, min_length=1, max_length=63)]
SecretName = Annotated[str, Field(pattern=SECRET_NAME, max_length=128)]


def _no_duplicates(items: list[str]) -> list[str]:
    """pydantic does not enforce the schema's ``uniqueItems``; this does, so both agree."""
    twice = sorted({item for index, item in enumerate(items) if item in items[:index]})
    if twice:
        raise ValueError(f"expected each item once; repeated: {', '.join(twice)}")
    return items


Unique = AfterValidator(_no_duplicates)


def _env_scalar(value: Any) -> Any:
    """YAML users write ``WORKERS: 4`` or ``DEBUG: true``; instances see text either way."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


EnvText = Annotated[
    str,
    BeforeValidator(_env_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


def _whole_number(value: Any) -> Any:
    """YAML reads ``8080.0`` as a float; JSON Schema counts it an integer, so Taxiway does too."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Integer = Annotated[int, BeforeValidator(_whole_number)]
"""An integer field: ``8080`` or ``8080.0``, never ``8080.5``, ``"8080"`` or ``true``."""


class Metadata(Model):
    name: DnsLabel = Field(description="The service's name: a DNS label of at most 63 characters.")
    owner: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Who answers for the service; left out, the first of its owners in the inventory.",
    )
    team: str | None = Field(default=None, max_length=128, description="The owning team.")
    labels: dict[Annotated[str, Field(pattern=LABEL_KEY)], str] = Field(
        default_factory=dict, description="Free-form labels, copied onto every regional definition."
    )


class Run(Model):
    command: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="argv of the process the `local` runtime starts."
    )
    working_dir: str | None = Field(
        default=None, description="Directory to start in, relative to the service directory."
    )


class Scalability(Model):
    min_instances: Integer = Field(
        default=1, ge=0, le=1000, description="Instances kept running in each region."
    )
    max_instances: Integer = Field(default=10, ge=1, le=1000, description="Most instances in each region.")
    max_concurrency: Integer = Field(
        default=80, ge=1, le=10000, description="Requests one instance serves at once."
    )
    cpu_utilization: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="CPU share (0–1] the autoscaler aims to keep per instance.",
    )


class Resources(Model):
    cpu: units.Cpu = Field(default=1000, description="CPU per instance.")
    memory: units.Memory = Field(default=512 * 1024**2, description="Memory per instance.")


class EnvValue(Model):
    value: EnvText = Field(description="The value.")
    secret: bool = Field(default=False, description="Redact this value in every rendering and plan.")


class Probe(Model):
    protocol: Literal["http", "tcp"] = Field(default="http", description="How to probe.")
    path: UrlPath = Field(default="/health", description="HTTP path (http only).")
    initial_delay_seconds: Integer = Field(
        default=0, ge=0, le=3600, description="Wait before the first probe."
    )
    period_seconds: Integer = Field(default=10, ge=1, le=3600, description="Seconds between probes.")
    timeout_seconds: Integer = Field(default=1, ge=1, le=3600, description="Seconds before a probe fails.")
    failure_threshold: Integer = Field(default=3, ge=1, le=1000, description="Failures in a row that count.")
    success_threshold: Integer = Field(default=1, ge=1, le=1000, description="Successes in a row that count.")


def _probe(**defaults: Any) -> Any:
    return Field(default_factory=lambda: Probe(**defaults))


class Probes(Model):
    """The three probes. One the owner leaves out, or sets without a ``path``, checks what
    the owner's own probes check: the protocol and path of the first of readiness,
    startup and liveness that names them. An app that answers only ``/ready`` is then
    never restarted for failing a ``/health`` nobody asked for."""

    startup: Probe = Field(
        default_factory=lambda: Probe(period_seconds=1, failure_threshold=30),
        description="Must pass once before the others start.",
    )
    readiness: Probe = Field(
        default_factory=lambda: Probe(period_seconds=5),
        description="Gates traffic to the instance.",
    )
    liveness: Probe = Field(
        default_factory=lambda: Probe(period_seconds=10),
        description="Restarts the instance on failure.",
    )

    @model_validator(mode="after")
    def _follow_the_owner(self) -> Probes:
        explicit = self.model_fields_set
        target = next(
            (
                getattr(self, name)
                for name in PROBE_PRECEDENCE
                if name in explicit and {"protocol", "path"} & getattr(self, name).model_fields_set
            ),
            None,
        )
        if target is None:
            return self
        for name in PROBE_PRECEDENCE:
            probe: Probe = getattr(self, name)
            named = probe.model_fields_set if name in explicit else set()
            if "path" in named or ("protocol" in named and probe.protocol == "tcp"):
                continue
            update: dict[str, Any] = {"path": target.path}
            if "protocol" not in named:
                update["protocol"] = target.protocol
            # Frozen models: the validator may still settle its own fields once.
            object.__setattr__(self, name, probe.model_copy(update=update))
        return self


PROBE_PRECEDENCE = ("readiness", "startup", "liveness")
CHECK_USER_AGENT = "Taxiway-check/1"
"""The User-Agent of every probe, ingress check and PoP monitor, so an app (and
``taxiway logs``) can tell the platform's checks from its users' requests."""
"""Whose path an unset probe takes, first to last."""


class Analysis(Model):
    max_error_ratio: float = Field(default=0.01, ge=0, le=1, description="Highest 5xx share tolerated.")
    max_p99_latency: units.Duration = Field(default=1.0, description="Highest p99 latency tolerated.")
    duration: units.Duration = Field(default=60.0, description="How long each step is watched.")


class Deployment(Model):
    strategy: Literal["rolling", "regional_rollout", "expedited", "dryrun"] = Field(
        default="regional_rollout",
        description=(
            "`rolling`: all regions at once, instance by instance; `regional_rollout`: region "
            "waves gated by analysis; `expedited`: skip analysis; `dryrun`: plan only."
        ),
    )
    traffic_steps: list[Annotated[int, Field(ge=1, le=100), BeforeValidator(_whole_number)]] = Field(
        default_factory=lambda: [10, 50, 100],
        min_length=1,
        description="Canary traffic shares in percent, increasing, ending at 100.",
    )
    max_parallel: Integer = Field(default=1, ge=1, le=100, description="Regions rolled out at once.")
    analysis: Analysis = Field(default_factory=Analysis, description="Metric gate between steps.")


class Monitor(Model):
    protocol: Literal["tcp", "http", "https"] = Field(default="tcp", description="Health check kind.")
    path: UrlPath = Field(default="/health", description="Path for http(s) monitors.")
    interval: units.Duration = Field(default=10.0, description="Time between checks.")
    timeout: units.Duration = Field(default=3.0, description="Time before a check fails.")
    consecutive_up: Integer = Field(default=1, ge=1, le=100, description="Passes in a row to mark a pool up.")
    consecutive_down: Integer = Field(default=1, ge=1, le=100, description="Fails in a row to mark it down.")
    expected_codes: str = Field(
        default="2xx",
        pattern=EXPECTED_CODES,
        description="HTTP codes that pass, e.g. `2xx` or `200,301`.",
    )


class GlobalLoadBalancing(Model):
    enabled: bool = Field(default=False, description="Serve the service through the edge PoPs.")
    steering: Literal["dynamic_latency", "failover"] = Field(
        default="dynamic_latency",
        description="`dynamic_latency`: pools ordered by RTT each PoP measures; `failover`: fixed order.",
    )
    failover_order: list[RegionName] | None = Field(
        default=None, description="Pool order for `failover` steering; defaults to `regions` order."
    )
    monitor: Monitor = Field(default_factory=Monitor, description="How PoPs check each pool.")
    fallback_region: RegionName | None = Field(
        default=None,
        description="Last resort when every pool is unhealthy; defaults to us-east1 or the first region.",
    )
    block_health_endpoint: bool = Field(
        default=False, description="Answer 404 to the public on the monitor path at the edge."
    )


class LoadBalancing(Model):
    global_: GlobalLoadBalancing = Field(
        default_factory=GlobalLoadBalancing, alias="global", description="Edge load balancing."
    )


class Metrics(Model):
    path: str = Field(default="/metrics", pattern=r"^/", description="Prometheus metrics path.")
    port: Annotated[int, Field(ge=1, le=65535), BeforeValidator(_whole_number)] | None = Field(
        default=None, description="Defaults to `container_port`."
    )


class Observability(Model):
    metrics: Metrics = Field(default_factory=Metrics, description="Where Prometheus scrapes.")


class Indicator(Model):
    type: Literal["availability", "latency"] = Field(description="What the SLO measures.")
    threshold: units.Duration | None = Field(
        default=None, description="Latency indicators: requests faster than this are good."
    )


class Slo(Model):
    name: DnsLabel = Field(description="Unique within the service.")
    objective: float = Field(gt=0, lt=100, description="Target percentage of good events, e.g. 99.9.")
    indicator: Indicator = Field(description="What counts as a good event.")
    window: units.Duration = Field(default=28 * 86400.0, description="Rolling window.")


class Spec(Model):
    run: Run | None = Field(default=None, description="Process to run (the `local` runtime).")
    image: str | None = Field(default=None, min_length=1, description="Container image (container runtimes).")
    container_port: Integer = Field(
        default=8080,
        ge=1,
        le=65535,
        description="Port the instance listens on in a container runtime; the `local` runtime gives each "
        "instance a port of its own in `PORT` instead.",
    )
    regions: Annotated[list[RegionName], Unique] = Field(
        min_length=1, json_schema_extra={"uniqueItems": True}, description="Regions to run in."
    )
    scalability: Scalability = Field(default_factory=Scalability, description="Instance counts.")
    resources: Resources = Field(default_factory=Resources, description="Per-instance resources.")
    request_timeout: units.Duration = Field(default=60.0, description="Longest a request may take.")
    env: dict[Annotated[str, Field(pattern=ENV_NAME)], EnvText | EnvValue] = Field(
        default_factory=dict, description="Environment variables: a value, or `{value, secret}`."
    )
    secrets: Annotated[list[SecretName], Unique] = Field(
        default_factory=list,
        json_schema_extra={"uniqueItems": True},
        description="Names of secrets the platform injects; never their values.",
    )
    probes: Probes = Field(default_factory=Probes, description="Startup, readiness, liveness.")
    deployment: Deployment = Field(default_factory=Deployment, description="How rollouts proceed.")
    load_balancing: LoadBalancing = Field(default_factory=LoadBalancing, description="Traffic.")
    observability: Observability = Field(default_factory=Observability, description="Metrics.")
    slos: list[Slo] = Field(default_factory=list, description="Service level objectives.")
    overrides: list[Override] = Field(
        default_factory=list, description="Per-region changes: `{regions: [...], <spec fields>}`."
    )


# An override carries any subset of the spec (but not regions or overrides themselves)
# for the regions it names. Built from Spec's own fields so the two never drift apart.
_OVERRIDABLE = {
    name: (
        # Keep the field's constraints and parsers (ranges, `30s`, `512Mi`) in overrides too.
        Optional[Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation],  # noqa: UP045
        Field(
            default=None,
            alias=info.alias,
            description=info.description,
            json_schema_extra=info.json_schema_extra,
        ),
    )
    for name, info in Spec.model_fields.items()
    if name not in {"regions", "overrides"}
}
Override: type[Model] = create_model(  # type: ignore[call-overload]
    "Override",
    __base__=Model,
    regions=(
        Annotated[list[RegionName], Unique],
        Field(
            min_length=1,
            json_schema_extra={"uniqueItems": True},
            description="Regions this applies to.",
        ),
    ),
    **_OVERRIDABLE,
)
Spec.model_rebuild()


class Manifest(Model):
    """A whole ``kind: Service`` document."""

    api_version: Literal["taxiway/v1"] = Field(alias="apiVersion", description="Always `taxiway/v1`.")
    kind: Literal["Service"] = Field(description="Always `Service`.")
    metadata: Metadata = Field(description="Who and what the service is.")
    spec: Spec = Field(description="What to run, where, and how.")
