"""Uploading a service as a revision: its ``.taxiway/`` files and its directory's artifact.

``taxiway deploy`` calls :func:`service_upload` then :func:`create_revision`. The control
plane validates and derives the files itself; when it refuses them, the located problems
it answers name ``.taxiway/<file>``, and :func:`create_revision` points them back at the
files on this machine so they read like ``taxiway validate``'s.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from taxiway.client import artifact as artifacts
from taxiway.client.http import ControlPlane
from taxiway.errors import InvalidInput, ProtocolError, ValidationFailed
from taxiway.spec.problem import Location, Problem
from taxiway.spec.service_files import ServiceFiles


@dataclass(frozen=True)
class ServiceUpload:
    """What one deploy sends: file name -> YAML text, and the service directory's archive."""

    directory: Path
    files: dict[str, str] = field(repr=False)
    local_paths: dict[str, Path]
    """Each uploaded name's file on this machine, to relabel the control plane's problems."""
    artifact: artifacts.Artifact = field(repr=False)


@dataclass(frozen=True)
class Created:
    service: str
    number: int
    digest: str
    artifact: str | None


def service_directory(files: ServiceFiles) -> Path:
    """The directory a service's files live in: the one holding ``.taxiway/``."""
    parent = files.manifest.parent
    return parent.parent if parent.name == ".taxiway" else parent


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc


def service_upload(files: ServiceFiles, *, limit: int = artifacts.MAX_BYTES) -> ServiceUpload:
    """The files under the names the control plane expects, and the directory's artifact."""
    local_paths: dict[str, Path] = {"service.yaml": files.manifest}
    for environment, path in files.overlays.items():
        local_paths[f"service-{environment}.yaml"] = path
    for environment, path in files.env_files.items():
        local_paths[f"env-{environment}.yaml"] = path
    directory = service_directory(files)
    return ServiceUpload(
        directory=directory,
        files={name: _read(path) for name, path in sorted(local_paths.items())},
        local_paths=local_paths,
        artifact=artifacts.build(directory, limit=limit, manifests=local_paths.values()),
    )


def _relabel(exc: ValidationFailed, local_paths: Mapping[str, Path]) -> ValidationFailed:
    problems = []
    for p in exc.problems:
        name = p.location.file.removeprefix(".taxiway/")
        local = local_paths.get(name)
        location = Location(str(local), p.location.line, p.location.column) if local else p.location
        problems.append(Problem(location, p.path, p.message, p.found, p.expected, p.hint))
    return ValidationFailed(problems)


def create_revision(
    cp: ControlPlane, service: str, upload: ServiceUpload, environment: str | None = None
) -> Created:
    """Store the upload as a revision (or find the identical one); problems name local files.

    With ``environment``, the control plane stores nothing when a secret the manifest names
    has no value there (the deploy to it would be refused anyway).
    """
    body = {
        "files": upload.files,
        "artifact": {"format": "tar.gz", "data": base64.b64encode(upload.artifact.data).decode("ascii")},
    }
    path = f"/v1/services/{service}/revisions"
    if environment is not None:
        path += f"?environment={quote(environment)}"
    try:
        answer: Any = cp.post(path, body)
    except ValidationFailed as exc:
        raise _relabel(exc, upload.local_paths) from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("number"), int):
        raise ProtocolError(f"POST /v1/services/{service}/revisions answered no revision number")
    stored = answer.get("artifact")
    if stored is not None and stored != upload.artifact.digest:
        raise ProtocolError(
            f"the control plane stored artifact {stored}, but {upload.artifact.digest} was sent"
        )
    return Created(service, answer["number"], str(answer.get("digest", "")), stored)
