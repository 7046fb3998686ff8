"""A service's ``.taxiway/`` directory: the manifest, its overlays and env files.

Layout (everything but ``service.yaml`` optional)::

    .taxiway/service.yaml               the manifest
    .taxiway/service-<environment>.yaml deep-merged over it for that environment
    .taxiway/env-<environment>.yaml     flat NAME: value map added to spec.env

:func:`load` returns the manifest as one environment sees it, with a merged position map
so a problem points into whichever file supplied the offending field. The files come
from disk (:func:`find`), or as text (:func:`load_texts`: the control plane's uploads).
:func:`check` does the same without raising: every problem, schema and semantic, and what parsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import pydantic

from taxiway.errors import ValidationFailed
from taxiway.spec import checks, document, salvage, validation
from taxiway.spec.document import Document, Position
from taxiway.spec.manifest import ENV_NAME, ENVIRONMENTS, Manifest
from taxiway.spec.merge import deep_merge
from taxiway.spec.problem import Location, Problem
from taxiway.spec.salvage import NOTHING, Unsure

_OVERLAY = re.compile(r"^(service|env)-(.+)\.ya?ml$")


@dataclass(frozen=True)
class ServiceFiles:
    """Where a service's manifest files are. Paths as the user gave them."""

    manifest: FsPath
    overlays: dict[str, FsPath] = field(default_factory=dict)
    env_files: dict[str, FsPath] = field(default_factory=dict)


@dataclass(frozen=True)
class Loaded:
    """A validated manifest for one environment and the document it came from."""

    environment: str
    manifest: Manifest
    document: Document


@dataclass(frozen=True)
class Checked:
    """One environment's manifest, checked: every problem in it, and what parsed.

    Without problems ``manifest`` is the manifest. With them it is what still parsed of
    it (:mod:`taxiway.spec.salvage`), ``unsure`` naming the fields the schema rejected,
    or None when too little did; ``document`` is None when the files did not parse.
    """

    environment: str
    manifest: Manifest | None
    document: Document | None
    problems: tuple[Problem, ...]
    unsure: Unsure = NOTHING


def _problem(path: FsPath, message: str, **kw: str | None) -> ValidationFailed:
    return ValidationFailed([Problem(Location(str(path)), (), message, **kw)])


def find(path: FsPath) -> ServiceFiles:
    """Locate the manifest files from a manifest file or a service directory."""
    if path.is_dir():
        for candidate in (path / ".taxiway" / "service.yaml", path / "service.yaml"):
            if candidate.is_file():
                return find(candidate)
        raise _problem(
            path,
            "no manifest found",
            expected=f"{path / '.taxiway' / 'service.yaml'} or a manifest file",
        )
    if not path.is_file():
        raise _problem(path, "no such file or directory", expected="a manifest file or a service directory")
    if path.name not in {"service.yaml", "service.yml"}:
        return ServiceFiles(path)
    try:
        siblings = sorted(path.parent.iterdir())
    except OSError as exc:
        raise _problem(path.parent, f"cannot list directory: {exc.strerror}") from exc
    return _beside(path, siblings)


def _beside(manifest: FsPath, siblings: list[FsPath]) -> ServiceFiles:
    """The manifest and the overlays and env files among ``siblings`` (in order), its
    directory's files; a file named for an unknown environment is a problem."""
    overlays: dict[str, FsPath] = {}
    env_files: dict[str, FsPath] = {}
    problems: list[Problem] = []
    for sibling in siblings:
        match = _OVERLAY.match(sibling.name)
        if not match:
            continue
        kind, environment = match.groups()
        if environment not in ENVIRONMENTS:
            problems.append(
                Problem(
                    Location(str(sibling)),
                    (),
                    f"unknown environment in file name: {environment!r}",
                    expected=f"{kind}-<environment>.yaml with one of {', '.join(ENVIRONMENTS)}",
                )
            )
            continue
        (overlays if kind == "service" else env_files)[environment] = sibling
    if problems:
        raise ValidationFailed(problems)
    return ServiceFiles(manifest, overlays, env_files)


def read(path: FsPath, *, max_bytes: int = document.MAX_DOCUMENT_BYTES) -> Document:
    """Parse one YAML file; unreadable or non-UTF-8 files are problems, not crashes."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _problem(path, "file is not UTF-8 text", found=f"byte at offset {exc.start}") from exc
    except OSError as exc:
        raise _problem(path, f"cannot read file: {exc.strerror}") from exc
    return document.parse(text, str(path), max_bytes=max_bytes)


# An overlay tunes a service for one environment; it cannot make it another service.
_FIXED_FIELDS: tuple[tuple[str, ...], ...] = (("apiVersion",), ("kind",), ("metadata", "name"))


def _value_at(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return _ABSENT
        data = data[part]
    return data


_ABSENT: Any = object()


def _merge_documents(base: Document, overlay: Document) -> Document:
    """``overlay`` deep-merged over ``base``; each field located in the file that supplied it."""
    if overlay.data is None:  # empty, or comments only: changes nothing
        return base
    if not isinstance(overlay.data, dict):
        raise ValidationFailed(
            [
                Problem(
                    overlay.locate(()),
                    (),
                    "an overlay must be a mapping",
                    found="a list" if isinstance(overlay.data, list) else repr(overlay.data)[:60],
                    expected="fields of the manifest to change, e.g. spec: {scalability: ...}",
                )
            ]
        )
    problems = []
    for path in _FIXED_FIELDS:
        changed = _value_at(overlay.data, path)
        if changed is not _ABSENT and changed != _value_at(base.data, path):
            problems.append(
                Problem(
                    overlay.locate(path),
                    path,
                    "an overlay cannot change this field",
                    found=repr(changed)[:60],
                    expected=f"the manifest's own value, or no {path[-1]} in the overlay",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    positions = dict(base.positions)
    positions.update({p: pos for p, pos in overlay.positions.items() if p})
    return Document(base.file, deep_merge(base.data, overlay.data), positions)


def _env_entries(env_doc: Document) -> dict[str, Any]:
    """Check an env file is a flat NAME: scalar map; return it."""
    data = env_doc.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValidationFailed(
            [
                Problem(
                    env_doc.locate(()),
                    (),
                    "env file must be a mapping",
                    expected="NAME: value lines",
                )
            ]
        )
    problems = []
    for name, value in data.items():
        if not re.fullmatch(ENV_NAME, name):
            problems.append(
                Problem(
                    env_doc.locate((name,), at_key=True),
                    (name,),
                    "invalid variable name",
                    found=name,
                    expected=f"a name matching {ENV_NAME}",
                )
            )
        if isinstance(value, dict | list) or value is None:
            problems.append(
                Problem(
                    env_doc.locate((name,)),
                    (name,),
                    "env file values must be plain values",
                    found="a mapping"
                    if isinstance(value, dict)
                    else "a list"
                    if value is not None
                    else "null",
                    expected="text, a number or true/false",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return dict(data)


def _with_env_file(doc: Document, env_doc: Document) -> Document:
    entries = _env_entries(env_doc)
    if not entries or not isinstance(doc.data, dict) or not isinstance(doc.data.get("spec"), dict):
        return doc
    spec = dict(doc.data["spec"])
    env = dict(spec.get("env") or {})
    for name, value in entries.items():
        current = env.get(name)
        # A variable the manifest marks secret stays secret when its value comes from here.
        if isinstance(current, dict) and current.get("secret") is True:
            env[name] = {"value": value, "secret": True}
        else:
            env[name] = value
    spec["env"] = env
    positions = dict(doc.positions)
    for path, pos in env_doc.positions.items():
        if path:
            positions[("spec", "env", *path)] = Position(pos.key, pos.value)
    return Document(doc.file, {**doc.data, "spec": spec}, positions)


Reader = Callable[[FsPath], Document]
"""Parses one of a service's files (:func:`read_manifest_file` reads it from disk)."""


def read_manifest_file(path: FsPath) -> Document:
    """One of a service's manifest files, from disk (bounded to a manifest's size)."""
    return read(path, max_bytes=document.MAX_MANIFEST_BYTES)


def _document(files: ServiceFiles, environment: str, read_file: Reader) -> Document:
    if environment not in ENVIRONMENTS:
        raise _problem(
            files.manifest,
            f"unknown environment {environment!r}",
            expected=f"one of {', '.join(ENVIRONMENTS)}",
        )
    doc = read_file(files.manifest)
    if environment in files.overlays:
        doc = _merge_documents(doc, read_file(files.overlays[environment]))
    if environment in files.env_files:
        doc = _with_env_file(doc, read_file(files.env_files[environment]))
    return doc


def check(files: ServiceFiles, environment: str, read_file: Reader = read_manifest_file) -> Checked:
    """The manifest as ``environment`` sees it, and every problem in it, schema and semantic:
    the semantic checks run on what parsed even when the schema rejects some fields."""
    try:
        doc = _document(files, environment, read_file)
    except ValidationFailed as exc:
        return Checked(environment, None, None, tuple(exc.problems))
    try:
        value: Manifest | None = Manifest.model_validate(doc.data)
        unsure, problems = NOTHING, []
    except pydantic.ValidationError as exc:
        problems = validation.problems_from(exc, doc, validation.json_schema(Manifest))
        salvaged = salvage.salvage(Manifest, doc.data, exc)
        value, unsure = (salvaged.value, salvaged.unsure) if salvaged else (None, NOTHING)
    if value is not None:
        problems.extend(checks.check_manifest(value, doc, unsure))
    return Checked(environment, value, doc, tuple(sorted(set(problems))), unsure)


def load(files: ServiceFiles, environment: str, read_file: Reader = read_manifest_file) -> Loaded:
    """The manifest as ``environment`` sees it: validated, with every problem located."""
    checked = check(files, environment, read_file)
    if checked.problems or checked.manifest is None or checked.document is None:
        raise ValidationFailed(list(checked.problems))
    return Loaded(environment, checked.manifest, checked.document)


def check_all(files: ServiceFiles, read_file: Reader = read_manifest_file) -> dict[str, Checked]:
    """:func:`check` for every environment, in promotion order."""
    return {environment: check(files, environment, read_file) for environment in ENVIRONMENTS}


def load_all(files: ServiceFiles, read_file: Reader = read_manifest_file) -> dict[str, Loaded]:
    """Load every environment, collecting all problems across them before failing."""
    loaded: dict[str, Loaded] = {}
    problems: set[Problem] = set()
    for environment in ENVIRONMENTS:
        try:
            loaded[environment] = load(files, environment, read_file)
        except ValidationFailed as exc:
            problems.update(exc.problems)
    if problems:
        raise ValidationFailed(sorted(problems))
    return loaded


def load_texts(texts: Mapping[str, str], folder: str = ".taxiway") -> dict[str, Loaded]:
    """Every environment of a ``.taxiway/`` directory given as text (file name -> YAML:
    an upload), as :func:`load_all` loads one from disk; problems name ``<folder>/<file>``
    with line and column. Nothing touches the file system."""
    if "service.yaml" not in texts:
        raise _problem(FsPath(folder, "service.yaml"), "no manifest found", expected="a service.yaml")
    by_path = {FsPath(folder, name): text for name, text in sorted(texts.items())}
    files = _beside(FsPath(folder, "service.yaml"), list(by_path))

    def parse(path: FsPath) -> Document:
        # Line ends as reading the file in text mode gives them (universal newlines), so a
        # file uploaded and the same file read from disk are the same document.
        text = by_path[path].replace("\r\n", "\n").replace("\r", "\n")
        return document.parse(text, str(path), max_bytes=document.MAX_MANIFEST_BYTES)

    return load_all(files, parse)
