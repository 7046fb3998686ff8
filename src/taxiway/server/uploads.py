"""Turning an uploaded ``.taxiway/`` directory into a revision's regional definitions.

The control plane never trusts a client's derivation: it validates and derives the
uploaded manifest files itself, against its own topology and inventory. Only the three
file shapes of a ``.taxiway/`` directory are accepted, so an upload cannot name a path;
they are parsed from the request's text (:func:`taxiway.spec.service_files.load_texts`),
never written to disk, and every problem names ``.taxiway/<file>`` as the user knows it.
Secret env values are digested with the control plane's key
(:mod:`taxiway.plan.secret_digest`), so neither their digests nor the revision's content
digest, computed over them, lets anyone guess a short secret.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from taxiway.errors import ValidationFailed
from taxiway.plan import derive
from taxiway.plan.regional import RegionalDefinition, SecretEnv
from taxiway.plan.secret_digest import Digester
from taxiway.sealing.definitions import strip_values
from taxiway.spec import service_files
from taxiway.spec.inventory import Inventory
from taxiway.spec.problem import Location, Problem
from taxiway.spec.topology import Topology

FILE_NAME = re.compile(r"^(service|service-[a-z]+|env-[a-z]+)\.yaml$")
MAX_FILES = 8
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Derived:
    service: str
    definitions: dict[str, dict[str, Any]]
    """Regional definition JSON by environment, then region; secrets carry their ``value``
    (in memory only: the caller seals them before storing)."""
    digest: str
    """Identifies the content: computed over the definitions with secrets as digests."""


def _check_names(files: Mapping[str, str]) -> None:
    problems = []
    if "service.yaml" not in files:
        problems.append(Problem(Location(".taxiway/service.yaml"), (), "the upload has no service.yaml"))
    if len(files) > MAX_FILES:
        problems.append(Problem(Location(".taxiway/"), (), f"too many files (at most {MAX_FILES})"))
    for name, text in files.items():
        if not FILE_NAME.match(name):
            problems.append(
                Problem(
                    Location(f".taxiway/{name}"),
                    (),
                    "unexpected file name",
                    expected="service.yaml, service-<environment>.yaml or env-<environment>.yaml",
                )
            )
        elif len(text.encode()) > MAX_FILE_BYTES:
            problems.append(Problem(Location(f".taxiway/{name}"), (), f"file over {MAX_FILE_BYTES} bytes"))
    if problems:
        raise ValidationFailed(problems)


def derive_upload(
    files: Mapping[str, str],
    service: str,
    topology: Topology,
    inventory: Inventory,
    secret_digest: Digester,
    artifact: str | None = None,
) -> Derived:
    """Validate and derive every environment the inventory allows for ``service``; secret
    values digested by ``secret_digest`` (the control plane's keyer)."""
    _check_names(files)
    loaded = service_files.load_texts(files)
    name = next(iter(loaded.values())).manifest.metadata.name
    if name != service:
        raise ValidationFailed(
            [
                Problem(
                    Location(".taxiway/service.yaml"),
                    ("metadata", "name"),
                    "the manifest is for another service",
                    found=name,
                    expected=service,
                )
            ]
        )
    entry = inventory.by_name.get(service)
    environments = entry.environments if entry is not None else list(loaded)
    definitions: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for environment in environments:
        item = loaded[environment]
        try:
            derived = derive.derive(
                item.manifest,
                environment,
                topology,
                inventory,
                source=item.document,
                secret_digest=secret_digest,
            )
        except ValidationFailed as exc:
            problems.extend(exc.problems)
            continue
        definitions[environment] = {region: _with_values(d) for region, d in derived.items()}
    if problems:
        raise ValidationFailed(sorted(set(problems)))
    return Derived(service, definitions, content_digest(definitions, artifact))


def _with_values(definition: RegionalDefinition) -> dict[str, Any]:
    document = definition.model_dump(mode="json", by_alias=True)
    for name, value in definition.spec.env.items():
        if isinstance(value, SecretEnv) and value.value is not None:
            document["spec"]["env"][name]["value"] = value.value
    return document


def content_digest(definitions: dict[str, dict[str, Any]], artifact: str | None) -> str:
    """What makes two uploads the same revision: definitions (secrets by digest) and files."""
    stripped = {
        environment: {region: strip_values(d) for region, d in by_region.items()}
        for environment, by_region in definitions.items()
    }
    canonical = json.dumps(
        {"definitions": stripped, "artifact": artifact}, sort_keys=True, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
