"""YAML documents as plain data plus a map from field path to file position.

Loading keeps the line and column of every key and value so that any later check (schema
or semantic) can point at the exact spot. Any failure to parse, whatever the YAML library
raises, becomes a located :class:`~taxiway.spec.problem.Problem`: mangled input never
escapes as anything but :class:`~taxiway.errors.ValidationFailed`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, CommentedSet, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError

from taxiway.errors import ValidationFailed
from taxiway.spec.problem import Location, Path, Problem

# Documents larger than this are refused before parsing: manifests are small, and a
# bound keeps a hostile or accidental multi-megabyte file from stalling the CLI.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
# Deeply nested input would otherwise exhaust the recursion limit while converting.
MAX_DEPTH = 64
# A service's manifest files are a few kilobytes; the YAML library takes seconds of CPU
# per megabyte, so the CLI and the control plane refuse more than this per file.
MAX_MANIFEST_BYTES = 256 * 1024
# Aliases share nodes, so a few hundred bytes can stand for billions of values ("billion
# laughs"). Converting expands them; this bounds the values reached a second time through
# an alias, far above what any real file repeats, without bounding large plain files.
MAX_ALIASED_VALUES = 100_000
# YAML may spell a lone UTF-16 surrogate ("\ud800"): not text, it cannot be written as
# UTF-8, so it would fail wherever the value went next (a file, a database, an answer).
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Position:
    """Where a field's key and its value stand (1-based)."""

    key: Location
    value: Location


@dataclass
class Document:
    """A parsed YAML file: plain Python data and the position of every field in it."""

    file: str
    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    # ids of the containers being converted right now: an alias back to one is a cycle
    _open_nodes: set[int] = field(default_factory=set, repr=False)
    # ids of containers converted once, and values converted again through aliases
    _seen: set[int] = field(default_factory=set, repr=False)
    _aliased: int = field(default=0, repr=False)

    def locate(self, path: Path, *, at_key: bool = False) -> Location:
        """The closest known location of ``path``: itself, or its nearest ancestor."""
        probe = tuple(path)
        while True:
            pos = self.positions.get(probe)
            if pos is not None:
                return pos.key if at_key else pos.value
            if not probe:
                return Location(self.file, 1, 1)
            probe = probe[:-1]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _problem(file: str, line: int, column: int, message: str, **kw: str | None) -> Problem:
    return Problem(Location(file, line, column), (), message, **kw)


def parse(text: str, file: str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """Parse one YAML document from ``text``; ``file`` names it in every problem."""
    if len(text.encode("utf-8", errors="replace")) > max_bytes:
        raise ValidationFailed(
            [_problem(file, 1, 1, "file too large", expected=f"at most {max_bytes} bytes")]
        )
    deep = _too_deep(text)
    if deep is not None:
        raise ValidationFailed(
            [
                _problem(
                    file,
                    *deep,
                    "invalid YAML: nested too deeply",
                    expected=f"at most {MAX_DEPTH} levels of nesting",
                )
            ]
        )
    try:
        raw = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ValidationFailed(
            [_problem(file, line, column, f"invalid YAML: {what or 'cannot parse'}")]
        ) from exc
    except RecursionError as exc:
        raise ValidationFailed(
            [_problem(file, 1, 1, "invalid YAML: nested too deeply", expected="a shallower document")]
        ) from exc
    except ReaderError as exc:  # a character YAML does not allow; it knows only the offset
        before = text[: max(int(exc.position), 0)]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise ValidationFailed(
            [
                _problem(
                    file,
                    line,
                    column,
                    f"invalid YAML: {exc.reason}",
                    found=f"character U+{int(exc.character):04X}",
                    expected="printable text",
                )
            ]
        ) from exc
    except Exception as exc:  # the YAML library raises many unrelated types on bad input
        raise ValidationFailed([_problem(file, 1, 1, f"invalid YAML: {exc}")]) from exc
    doc = Document(file, None)
    problems: list[Problem] = []
    try:
        doc.data = _convert(raw, (), doc, problems, depth=0)
    except _TooLarge as exc:
        raise ValidationFailed(
            [
                _problem(
                    file,
                    1,
                    1,
                    "document expands to too many values (through YAML aliases)",
                    expected=f"at most {MAX_ALIASED_VALUES} values repeated through aliases",
                )
            ]
        ) from exc
    if problems:
        raise ValidationFailed(problems)
    return doc


_QUOTED_OR_COMMENT = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"|(?:^|\s)#.*$")
_FLOW = re.compile(r"[\[\]{}]")
_LEADING_ENTRIES = re.compile(r"^[ \t]*(?:[-?:][ \t]+)+")
MAX_INDENT = 1024
"""No real document indents further; a deeper block structure is refused before parsing."""


def _too_deep(text: str) -> tuple[int, int] | None:
    """Where ``text`` nests past :data:`MAX_DEPTH`, judged *before* parsing: the YAML
    library spends seconds of CPU on a document 50,000 brackets deep before any check
    after it could run. Counts flow brackets outside quotes and comments, entries that
    open on one line (``- - - x``) and indentation; linear in the text."""
    flow = 0
    for number, line in enumerate(text.splitlines(), start=1):
        leading = _LEADING_ENTRIES.match(line)
        if leading is not None:
            opened = sum(1 for char in leading.group() if char in "-?:")
            if opened > MAX_DEPTH or len(leading.group()) > MAX_INDENT:
                return number, 1
        elif len(line) - len(line.lstrip(" \t")) > MAX_INDENT:
            return number, 1
        for bracket in _FLOW.finditer(_QUOTED_OR_COMMENT.sub("", line)):
            flow += 1 if bracket.group() in "[{" else -1
            if flow > MAX_DEPTH:
                return number, bracket.start() + 1
        flow = max(flow, 0)
    return None


class _TooLarge(Exception):
    """Raised inside conversion when alias expansion passes MAX_ALIASED_VALUES."""


def _coords(node: CommentedMap | CommentedSeq, key: Any) -> Any:
    """ruamel's recorded position of ``key`` in ``node``, if it kept one (``!!omap`` does not)."""
    data = getattr(node.lc, "data", None)
    return data.get(key) if isinstance(data, dict) else None


def _record(doc: Document, path: Path, key: tuple[int, int], value: tuple[int, int]) -> None:
    doc.positions[path] = Position(
        Location(doc.file, key[0] + 1, key[1] + 1),
        Location(doc.file, value[0] + 1, value[1] + 1),
    )


def _convert(node: Any, path: Path, doc: Document, problems: list[Problem], depth: int) -> Any:
    """Turn ruamel's round-trip nodes into plain data, recording positions on the way."""
    if isinstance(node, CommentedMap | CommentedSeq):
        if id(node) in doc._seen:
            doc._aliased += len(node) + 1
            if doc._aliased > MAX_ALIASED_VALUES:
                raise _TooLarge
        doc._seen.add(id(node))
    if isinstance(node, CommentedMap | CommentedSeq) and id(node) in _ancestors(doc):
        problems.append(Problem(doc.locate(path), path, "recursive YAML alias", expected="a finite document"))
        return None
    if isinstance(node, TaggedScalar):
        problems.append(
            Problem(
                doc.locate(path),
                path,
                "unsupported YAML tag",
                found=str(node.tag),
                expected="a plain value",
            )
        )
        return None
    if isinstance(node, CommentedSet | set | frozenset):
        problems.append(
            Problem(
                doc.locate(path), path, "unsupported YAML type", found="a set", expected="a list or mapping"
            )
        )
        return None
    if depth > MAX_DEPTH:
        problems.append(
            Problem(doc.locate(path), path, "nested too deeply", expected=f"at most {MAX_DEPTH} levels")
        )
        return None
    if isinstance(node, CommentedMap):
        if not path:
            line, col = node.lc.line or 0, node.lc.col or 0
            _record(doc, (), (line, col), (line, col))
        out: dict[str, Any] = {}
        _ancestors(doc).add(id(node))
        for key, value in node.items():
            coords = _coords(node, key)
            if not isinstance(key, str):
                where = (
                    doc.locate(path) if coords is None else Location(doc.file, coords[0] + 1, coords[1] + 1)
                )
                problems.append(
                    Problem(
                        where,
                        path,
                        "mapping key is not a string",
                        found=repr(key),
                        expected="a string key",
                    )
                )
                continue
            if _SURROGATE.search(key):
                where = (
                    doc.locate(path) if coords is None else Location(doc.file, coords[0] + 1, coords[1] + 1)
                )
                problems.append(_not_text(where, path, "mapping key"))
                continue
            child = (*path, key)
            if coords is not None:
                _record(doc, child, (coords[0], coords[1]), (coords[2], coords[3]))
            out[key] = _convert(value, child, doc, problems, depth + 1)
        _ancestors(doc).discard(id(node))
        return out
    if isinstance(node, CommentedSeq):
        if not path:
            line, col = node.lc.line or 0, node.lc.col or 0
            _record(doc, (), (line, col), (line, col))
        items: list[Any] = []
        _ancestors(doc).add(id(node))
        for index, value in enumerate(node):
            child = (*path, index)
            coords = _coords(node, index)
            if coords is not None:
                _record(doc, child, (coords[0], coords[1]), (coords[0], coords[1]))
            items.append(_convert(value, child, doc, problems, depth + 1))
        _ancestors(doc).discard(id(node))
        return items
    if isinstance(node, str) and _SURROGATE.search(node):
        problems.append(_not_text(doc.locate(path), path, "value"))
        return None
    return _scalar(node)


def _not_text(where: Location, path: Path, what: str) -> Problem:
    return Problem(
        where,
        path,
        f"{what} is not text: it holds a lone UTF-16 surrogate",
        expected="text: the character itself, or \\U0001F600 for one past U+FFFF (YAML pairs no \\u escapes)",
    )


def _ancestors(doc: Document) -> set[int]:
    return doc._open_nodes


def _scalar(node: Any) -> Any:
    """ruamel wraps scalars in subclasses that keep formatting; unwrap to plain types."""
    if node is None or isinstance(node, bool):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime.datetime | datetime.date):
        return node.isoformat()
    if isinstance(node, bytes):
        return node
    if isinstance(node, Mapping):
        return {str(k): _scalar(v) for k, v in node.items()}
    return node
