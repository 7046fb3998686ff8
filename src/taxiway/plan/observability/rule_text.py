"""A Prometheus rule file as text: ``groups`` of rules rendered as stable, readable YAML.

One rendering for every rule file Taxiway writes or prints (``taxiway slo rules``, the
rule files a regional or the global Prometheus loads), so the same rules are the same
bytes: keys in Prometheus's order (``name``, ``rules``; ``record``/``alert``, ``expr``,
``labels``, ``annotations``), labels sorted, multi-line expressions as literal blocks.
Pure: data in, text out.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.representer import SafeRepresenter

_RULE_KEYS = ("record", "alert", "expr", "for", "labels", "annotations")


def _text(representer: SafeRepresenter, value: str) -> Any:
    style = "|" if "\n" in value else None
    return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _yaml() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold an expression
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.representer.add_representer(str, _text)
    return yaml


def _ordered_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for key in _RULE_KEYS:
        if key not in rule:
            continue
        value = rule[key]
        ordered[key] = dict(sorted(value.items())) if isinstance(value, Mapping) else value
    return ordered


def render(document: Mapping[str, Any], header: str = "") -> str:
    """``document`` (``{"groups": [...]}``) as YAML, after ``header`` (comment lines)."""
    groups = [
        {"name": group["name"], "rules": [_ordered_rule(rule) for rule in group["rules"]]}
        for group in document["groups"]
    ]
    stream = io.StringIO()
    _yaml().dump({"groups": groups}, stream)
    return header + stream.getvalue()
