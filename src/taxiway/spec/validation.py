"""Schema validation of a parsed document, with every error located and explained.

pydantic reports errors by field path; this module turns each into a
:class:`~taxiway.spec.problem.Problem` at the line and column of that field, with what was
found, what was expected, and a "did you mean" for misspelt field names. All errors in a
document are reported together.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pydantic

from taxiway.errors import ValidationFailed
from taxiway.spec import patterns
from taxiway.spec.document import Document
from taxiway.spec.problem import Path, Problem

M = TypeVar("M", bound=pydantic.BaseModel)

_EXPECTED_BY_TYPE = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "nothing (null)",
}


def _found(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _data_at(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _expected(error: Any) -> str | None:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "union":
        return error.get("expected_text")  # type: ignore[no-any-return]
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind == "literal_error":
        return f"one of {ctx.get('expected')}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        sign = {
            "greater_than_equal": "≥",
            "greater_than": ">",
            "less_than_equal": "≤",
            "less_than": "<",
        }
        bound = next(iter(ctx.values()))
        return f"a value {sign[kind]} {bound}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        return patterns.NAMES.get(str(pattern), f"text matching {pattern}")
    if kind in {"string_too_long", "too_long"}:
        return f"at most {ctx.get('max_length')} {'characters' if kind == 'string_too_long' else 'items'}"
    if kind in {"string_too_short", "too_short"}:
        least = ctx.get("min_length")
        noun = "character" if kind == "string_too_short" else "item"
        return f"at least {least} {noun}{'s' if least != 1 else ''}"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        return message.removeprefix("expected ")
    return None


def _fields_at(schema: dict[str, Any], path: Path) -> list[str]:
    """The field names the JSON Schema allows at ``path`` (for "did you mean")."""
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in node:
            return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
        options = node.get("anyOf") or node.get("oneOf")
        if options:
            return [leaf for option in options for leaf in resolve(option)]
        return [node]

    nodes = resolve(schema)
    for part in path:
        following: list[dict[str, Any]] = []
        for node in nodes:
            if isinstance(part, int) and "items" in node:
                following.extend(resolve(node["items"]))
            elif isinstance(part, str) and part in node.get("properties", {}):
                following.extend(resolve(node["properties"][part]))
            elif isinstance(part, str) and isinstance(node.get("additionalProperties"), dict):
                following.extend(resolve(node["additionalProperties"]))
            elif isinstance(part, str):
                # maps whose keys have a pattern (env names, label keys) say so this way
                for pattern, item in node.get("patternProperties", {}).items():
                    if re.search(pattern, part):
                        following.extend(resolve(item))
        nodes = following
    return sorted({name for node in nodes for name in node.get("properties", {})})


@functools.cache
def json_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema, built once: only "did you mean" reads it, and it is slow to build."""
    return model.model_json_schema(by_alias=True)


def _has(data: Any, part: str | int) -> bool:
    if isinstance(data, dict):
        return isinstance(part, str) and part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _strip_tags(loc: tuple[Any, ...], data: Any, kind: str) -> tuple[Path, int | None, str | None]:
    """pydantic's error path without the union-member tags it inserts (``EnvValue``, ``str``).

    A tag is a path element the input does not have: walking the input along the path
    tells field names (present) from tags (absent). Only the last element of a
    ``missing`` error is absent for real. Returns the clean path, and where the first
    tag stood in it and which tag it was (None when the error is not inside a union).
    """
    path: list[str | int] = []
    where: int | None = None
    tag: str | None = None
    current = data
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if _has(current, part):
            current = current[part]
        elif (index == len(loc) - 1 and kind == "missing") or not isinstance(part, str):
            current = None
        else:
            if where is None:
                where, tag = len(path), part
            continue
        path.append(part)
    return tuple(path), where, tag


def _pick_union_branches(errors: list[Any], data: Any) -> list[tuple[Any, Path]]:
    """Of the errors inside a union, keep the branch(es) that got deepest into the input.

    A mapping under ``env`` fails the string branch at once but the ``{value, secret}``
    branch only on a field, so the user hears about that field, not about both branches.
    """
    plain: list[tuple[Any, Path]] = []
    branches: dict[Path, dict[str, list[tuple[Any, Path]]]] = {}
    for item in errors:
        loc = tuple(item["loc"])
        path, where, tag = _strip_tags(loc, data, item["type"])
        if where is None or tag is None:
            plain.append((item, path))
        else:
            branches.setdefault(path[:where], {}).setdefault(tag, []).append((item, path))
    for at, by_tag in branches.items():
        depth = {tag: max(len(item["loc"]) for item, _ in found) for tag, found in by_tag.items()}
        deepest = max(depth.values())
        kept = [found for tag, found in by_tag.items() if depth[tag] == deepest]
        flat = [entry for found in kept for entry in found]
        if len(kept) > 1 and all(path == at for _, path in flat):
            # Every branch failed on the value itself: one problem, listing what each accepts.
            expected = list(dict.fromkeys(e for e in (_expected(item) for item, _ in flat) if e))
            merged = dict(flat[0][0])
            merged["type"] = "union"
            merged["expected_text"] = " or ".join(expected) or None
            plain.append((merged, at))
        else:
            plain.extend(flat)
    return plain


def error_paths(error: pydantic.ValidationError, data: Any) -> list[tuple[str, Path]]:
    """Each error's kind (``missing``, ``extra_forbidden``, ...) and the path of the field it
    is about in ``data``, as :func:`problems_from` reports them."""
    errors = error.errors(include_url=False)
    return [(item["type"], path) for item, path in _pick_union_branches(errors, data)]


_FROM_DOCUMENT: Any = object()


def problems_from(
    error: pydantic.ValidationError,
    doc: Document,
    schema: dict[str, Any],
    prefix: Path = (),
    data: Any = _FROM_DOCUMENT,
) -> list[Problem]:
    """Translate every error pydantic found into a located problem.

    ``data`` is the input pydantic validated, when it is not ``doc``'s data at ``prefix``
    (an override merged over the spec, say); problems are still located at ``prefix``.
    """
    problems = []
    if data is _FROM_DOCUMENT:
        data = _data_at(doc.data, prefix)
    for item, clean in _pick_union_branches(error.errors(include_url=False), data):
        loc = tuple(item["loc"])
        on_key = bool(loc) and loc[-1] == "[key]"
        path: Path = (*prefix, *clean)
        kind = item["type"]
        if kind == "extra_forbidden":
            known = _fields_at(schema, path[len(prefix) : -1])
            close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else None
            if not close and known:
                hint = f"known fields: {', '.join(known)}"
            problems.append(Problem(doc.locate(path, at_key=True), path, "unknown field", hint=hint))
        elif kind == "missing":
            problems.append(
                Problem(doc.locate(path[:-1]), path, "required field is missing", expected="a value")
            )
        elif on_key:
            problems.append(
                Problem(
                    doc.locate(path, at_key=True),
                    path,
                    "invalid key",
                    found=_found(path[-1]),
                    expected=_expected(item),
                )
            )
        else:
            expected = _expected(item)
            message = "invalid value" if expected else item["msg"]
            problems.append(
                Problem(
                    doc.locate(path),
                    path,
                    message,
                    found=_found(item.get("input")),
                    expected=expected,
                )
            )
    return problems


def validate(
    model: type[M],
    doc: Document,
    *,
    checks: Iterable[Callable[[M, Document], Iterable[Problem]]] = (),
) -> M:
    """Validate ``doc`` as ``model`` then run semantic ``checks``; raise with every problem."""
    try:
        value = model.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ValidationFailed(sorted(set(problems_from(exc, doc, json_schema(model))))) from exc
    problems = [p for check in checks for p in check(value, doc)]
    if problems:
        raise ValidationFailed(sorted(set(problems)))
    return value
