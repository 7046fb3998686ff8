"""Sloth's own SLO spec (``version: prometheus/v1``), parsed and checked with located errors.

A team moving from Sloth keeps its spec files: ``taxiway slo rules --sloth SPEC.yml``
reads one with this module and prints what Sloth would generate for it
(:func:`taxiway.plan.observability.sloth.slos_from_spec`). The fields are Sloth's,
spelt as Sloth spells them (``errorQuery``, ``pageAlert``); what Sloth would refuse is a
problem naming the file, line, field and what was expected, never a traceback. Unlike
Sloth, an unknown field is a problem too: a misspelt ``erorQuery`` would otherwise be
silently dropped. SLI plugins (``sli.plugin``) are Go code Sloth loads; they are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taxiway.spec import manifest, validation
from taxiway.spec.document import Document
from taxiway.spec.problem import Path, Problem

VERSION = "prometheus/v1"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
"""A Prometheus label (and annotation) name."""
WINDOW_ACTION = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")
"""The one template action a Sloth query may hold: ``{{.window}}``, the range to rate over."""
_ANY_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


LabelName = Annotated[str, Field(pattern=LABEL_NAME)]
LabelValue = manifest.EnvText
"""Text, as Sloth's YAML decoder takes a label value: ``tier: 2`` is ``"2"``."""
Labels = dict[LabelName, LabelValue]
Query = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class Events(_Model):
    error_query: Query = Field(alias="errorQuery", description="Bad events, rated over {{.window}}.")
    total_query: Query = Field(alias="totalQuery", description="All events, rated over {{.window}}.")


class Raw(_Model):
    error_ratio_query: Query = Field(alias="errorRatioQuery", description="The error ratio over {{.window}}.")


class Sli(_Model):
    events: Events | None = None
    raw: Raw | None = None
    plugin: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Sli:
        # A plugin is refused by name in the checks, with what to write instead.
        if self.plugin is None and (self.events is None) == (self.raw is None):
            raise ValueError("exactly one of events or raw")
        return self


class AlertSwitch(_Model):
    disable: bool = False
    labels: Labels = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)


class Alerting(_Model):
    name: str = ""
    labels: Labels = Field(default_factory=dict)
    annotations: dict[LabelName, str] = Field(default_factory=dict)
    page_alert: AlertSwitch = Field(default_factory=AlertSwitch, alias="pageAlert")
    ticket_alert: AlertSwitch = Field(default_factory=AlertSwitch, alias="ticketAlert")


class SlothSlo(_Model):
    name: str = Field(min_length=1)
    objective: float = Field(gt=0, le=100, description="Percent of good events, e.g. 99.9.")
    description: str = ""
    labels: Labels = Field(default_factory=dict)
    sli: Sli
    alerting: Alerting = Field(default_factory=Alerting)


class SlothSpec(_Model):
    version: Literal["prometheus/v1"]
    service: str = Field(min_length=1)
    labels: Labels = Field(default_factory=dict)
    slos: list[SlothSlo] = Field(min_length=1)


def _queries(slo: SlothSlo) -> Iterator[tuple[Path, str]]:
    if slo.sli.events is not None:
        yield ("sli", "events", "errorQuery"), slo.sli.events.error_query
        yield ("sli", "events", "totalQuery"), slo.sli.events.total_query
    if slo.sli.raw is not None:
        yield ("sli", "raw", "errorRatioQuery"), slo.sli.raw.error_ratio_query


def _problem(doc: Document, path: Path, message: str, **details: str) -> Problem:
    return Problem(doc.locate(path), path, message, **details)


def _rules(spec: SlothSpec, doc: Document) -> Iterator[Problem]:
    """What the schema cannot say: Sloth's own checks."""
    seen: set[str] = set()
    for index, slo in enumerate(spec.slos):
        where: Path = ("slos", index)
        if slo.name in seen:
            yield _problem(doc, (*where, "name"), "duplicate SLO name", found=slo.name)
        seen.add(slo.name)
        alerts_on = not (slo.alerting.page_alert.disable and slo.alerting.ticket_alert.disable)
        if alerts_on and not slo.alerting.name:
            yield _problem(
                doc,
                (*where, "alerting", "name"),
                "alert name is missing",
                expected="alerting.name, or pageAlert and ticketAlert both disable: true",
            )
        if slo.sli.plugin is not None:
            yield _problem(
                doc,
                (*where, "sli", "plugin"),
                "SLI plugins are not supported",
                expected="the plugin's query written as sli.raw.errorRatioQuery or sli.events",
            )
        for field, query in _queries(slo):
            actions = [a for a in _ANY_ACTION.findall(query) if not WINDOW_ACTION.fullmatch(a)]
            if actions:
                yield _problem(
                    doc,
                    (*where, *field),
                    "unknown template value",
                    found=actions[0],
                    expected="only {{.window}}",
                )


def parse(doc: Document) -> SlothSpec:
    """``doc`` as a Sloth spec; :class:`~taxiway.errors.ValidationFailed` with every problem."""
    return validation.validate(SlothSpec, doc, checks=[_rules])
