"""Schema validation of a parsed document, with every error located and explained.

pydantic reports errors by field path; this module turns each into a
:class:`~taxiway.spec.problem.Problem` at the line and column of that field, with what was
found, what was expected, and a "did you mean" for misspelt field names. All errors in a
document are reported together.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import pydantic

from taxiway.errors import ValidationFailed
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


def _expected(error: Any) -> str | None:
    kind = error["type"]
    ctx = error.get("ctx") or {}
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
        return f"text matching {ctx.get('pattern')}"
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
        nodes = following
    return sorted({name for node in nodes for name in node.get("properties", {})})


def problems_from(
    error: pydantic.ValidationError, doc: Document, schema: dict[str, Any], prefix: Path = ()
) -> list[Problem]:
    """Translate every error pydantic found into a located problem."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        on_key = bool(loc) and loc[-1] == "[key]"
        path: Path = tuple(p for p in loc if p != "[key]" and isinstance(p, str | int))
        path = (*prefix, *path)
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
    schema = model.model_json_schema(by_alias=True)
    try:
        value = model.model_validate(doc.data)
    except pydantic.ValidationError as exc:
        raise ValidationFailed(sorted(set(problems_from(exc, doc, schema)))) from exc
    problems = [p for check in checks for p in check(value, doc)]
    if problems:
        raise ValidationFailed(sorted(set(problems)))
    return value
