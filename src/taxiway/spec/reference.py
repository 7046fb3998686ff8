"""Reference docs, rendered as Markdown from an exported JSON Schema.

The docs under ``docs/reference/`` come from the same schema editors and
``check-jsonschema`` read (see :mod:`taxiway.spec.schema`), so the field tables cannot
drift from what ``taxiway validate`` accepts; a test fails when the committed files are
stale. Pure text in, text out: the ``schema`` command of the CLI writes the files.

Each object the schema defines gets one section with a table of its fields (type,
default, description and constraints: ranges, lengths, patterns, allowed values, whether
the field is required), and every nested object is a link to its own section.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from taxiway.spec import units

REGENERATE = "taxiway schema --write schemas --docs docs/reference"
ROOT = "document"

Schema = Mapping[str, Any]

# Patterns too long to read in a table cell, in words (the schema file has them in full).
_PATTERN_WORDS = {
    units.DURATION_PATTERN: "a number and a unit (ms, s, m, h, d), at most three decimals, 1ms to 366d",
}


@dataclass(frozen=True)
class _Shape:
    """What a schema node accepts, in words: its type and the rules on top of it."""

    type: str
    rules: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _ref_name(node: Schema) -> str | None:
    ref = node.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def _anchor(name: str) -> str:
    return name.lower()


def _link(name: str) -> str:
    return f"[{name}](#{_anchor(name)})"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell (GitHub splits cells on every ``|``)."""
    return " ".join(text.split()).replace("|", "\\|")


def _value(value: Any) -> str:
    """A value as a user writes it in YAML: ``1m``, ``[10, 50, 100]``, ``{}``."""
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


def _code(value: Any) -> str:
    return f"`{_value(value)}`"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _number_rules(node: Schema) -> list[str]:
    low = ("[", node["minimum"]) if "minimum" in node else ("(", node.get("exclusiveMinimum"))
    high = ("]", node["maximum"]) if "maximum" in node else (")", node.get("exclusiveMaximum"))
    if low[1] is not None and high[1] is not None:
        return [f"range {low[0]}{low[1]}, {high[1]}{high[0]}"]
    if low[1] is not None:
        return [f"{'≥' if low[0] == '[' else '>'} {low[1]}"]
    if high[1] is not None:
        return [f"{'≤' if high[0] == ']' else '<'} {high[1]}"]
    return []


def _length_rules(node: Schema, low_key: str, high_key: str, noun: str) -> list[str]:
    low, high = node.get(low_key), node.get(high_key)
    if low is not None and high is not None:
        return [f"{low} to {_plural(high, noun)}"]
    if low is not None:
        return [f"at least {_plural(low, noun)}"]
    if high is not None:
        return [f"at most {_plural(high, noun)}"]
    return []


def _shape(node: Schema) -> _Shape:
    """Describe one schema node; options of an ``anyOf`` are joined with "or"."""
    name = _ref_name(node)
    if name is not None:
        return _Shape(_link(name))
    examples = node.get("examples")
    notes = (f"Examples: {', '.join(_code(v) for v in examples)}.",) if examples else ()
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        shapes = [_shape(option) for option in options]
        types = [shape.type for shape in shapes]
        with_rules = [shape for shape in shapes if shape.rules]
        if len(with_rules) == 1:
            rules = list(with_rules[0].rules)
        else:
            rules = [f"{shape.type}: {', '.join(shape.rules)}" for shape in with_rules]
        if node.get("uniqueItems"):
            rules.insert(0, "no duplicates")
        inner = tuple(note for shape in shapes for note in shape.notes)
        return _Shape(" or ".join(dict.fromkeys(types)), tuple(rules), notes + inner)
    if "const" in node:
        return _Shape(f"{_code(node['const'])} (constant)")
    if "enum" in node:
        return _Shape("one of " + ", ".join(_code(v) for v in node["enum"]))
    kind = node.get("type")
    if isinstance(kind, list):
        return _Shape(", ".join(kind[:-1]) + f" or {kind[-1]}" if len(kind) > 1 else kind[0])
    if kind == "array":
        return _array(node)
    if kind == "object":
        return _object(node)
    if kind in {"integer", "number"}:
        return _Shape(kind, tuple(_number_rules(node)))
    if kind == "string":
        rules = _length_rules(node, "minLength", "maxLength", "character")
        if "pattern" in node:
            rules.append(_PATTERN_WORDS.get(node["pattern"], f"pattern `{node['pattern']}`"))
        return _Shape("string", tuple(rules))
    return _Shape(str(kind) if kind else "any value")


def _array(node: Schema) -> _Shape:
    items = _shape(node.get("items", {}))
    rules = _length_rules(node, "minItems", "maxItems", "item")
    if node.get("uniqueItems"):
        rules.append("no duplicates")
    rules.extend(f"each item: {rule}" for rule in items.rules)
    return _Shape(f"list of {items.type}", tuple(rules), items.notes)


def _object(node: Schema) -> _Shape:
    patterns = node.get("patternProperties") or {}
    extra = node.get("additionalProperties")
    if patterns:
        (key_pattern, value_node), *_ = patterns.items()
        value = _shape(value_node)
        rules = (f"keys: pattern `{key_pattern}`", *(f"values: {rule}" for rule in value.rules))
        return _Shape(f"map of string to {value.type}", rules, value.notes)
    if isinstance(extra, Mapping):
        value = _shape(extra)
        return _Shape(f"map of string to {value.type}", tuple(f"values: {r}" for r in value.rules))
    return _Shape("mapping")


def _target(node: Schema) -> str | None:
    """The object definition a field holds, directly or as the non-null option of an anyOf."""
    name = _ref_name(node)
    if name is not None:
        return name
    for option in node.get("anyOf") or ():
        name = _ref_name(option)
        if name is not None:
            return name
    return None


def _default(node: Schema, defs: Schema) -> str:
    value = node["default"]
    target = _target(node)
    if target is None or not isinstance(value, dict):
        return _code(value)
    own = {key: spec.get("default") for key, spec in defs[target].get("properties", {}).items()}
    changed = {key: item for key, item in value.items() if own.get(key) != item}
    if not changed:
        return f"see {_link(target)}"
    listed = ", ".join(f"`{key}: {_value(item)}`" for key, item in changed.items())
    return f"{listed}; rest as in {_link(target)}"


def _references(node: Any) -> Iterator[str]:
    """Every definition ``node`` refers to, in document order."""
    if isinstance(node, Mapping):
        name = _ref_name(node)
        if name is not None:
            yield name
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _sections(schema: Schema) -> list[tuple[str, Schema]]:
    """The root, then each definition in the order a reader meets it (depth first)."""
    defs = schema.get("$defs", {})
    order: list[str] = []

    def visit(node: Schema) -> None:
        for name in _references(node.get("properties", {})):
            if name not in order and name in defs:
                order.append(name)
                visit(defs[name])

    visit(schema)
    order.extend(name for name in defs if name not in order)
    return [(ROOT, schema), *((name, defs[name]) for name in order)]


def _used_in(sections: list[tuple[str, Schema]]) -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for parent, node in sections:
        for field, spec in node.get("properties", {}).items():
            for name in dict.fromkeys(_references(spec)):
                parent_link = "the document" if parent == ROOT else _link(parent)
                used.setdefault(name, []).append(f"{parent_link} `{field}`")
    return used


def _table(node: Schema, defs: Schema) -> list[str]:
    properties: Schema = node.get("properties", {})
    if not properties:
        return ["Any fields."]
    required = set(node.get("required", ()))
    lines = ["| field | type | default | description |", "|---|---|---|---|"]
    for field, spec in properties.items():
        shape = _shape(spec)
        if field in required:
            default = "**required**"
        elif "default" in spec:
            default = _default(spec, defs)
        else:
            default = "—"
        text = " ".join(part for part in (spec.get("description", ""), *shape.notes) if part)
        if shape.rules:
            text += f" *Rules: {'; '.join(shape.rules)}.*"
        cells = (f"`{field}`", shape.type, default, text.strip())
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    if node.get("additionalProperties") is False:
        lines += ["", "Other fields are rejected."]
    return lines


def render(schema: Schema, kind: str) -> str:
    """The Markdown reference of one document kind's schema, ending in a newline."""
    defs: Schema = schema.get("$defs", {})
    sections = _sections(schema)
    used = _used_in(sections)
    lines = [
        f"# {schema.get('title', kind)} reference",
        "",
        f"<!-- Generated from schemas/{kind}.schema.json by `{REGENERATE}`; do not edit. -->",
        "",
        schema.get("description", ""),
        "",
        f"Editors and `check-jsonschema` can check a file against `schemas/{kind}.schema.json`; "
        "`taxiway validate` checks the same rules and more.",
        "",
        "## Contents",
        "",
    ]
    for name, _ in sections:
        lines.append(f"- [{'The document' if name == ROOT else name}](#{_anchor(name)})")
    for name, node in sections:
        title = "The document" if name == ROOT else name
        lines += ["", f'## <a id="{_anchor(name)}"></a>{title}', ""]
        if name != ROOT:
            if node.get("description"):
                lines += [" ".join(str(node["description"]).split()), ""]
            if name in used:
                lines += ["Used in: " + ", ".join(used[name]) + ".", ""]
        lines += _table(node, defs)
    return "\n".join(lines) + "\n"
