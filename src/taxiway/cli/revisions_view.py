"""``taxiway revisions`` for people: newest first, which environment runs each, and its outcome.

One column per environment says what became of the revision there (``ready``,
``failed``, ``rolled back``, ``in progress``, ``superseded``; ``not deployed`` when it has
definitions there that never ran, ``-`` when it has none); failures are then spelled out,
region by region, with the satellite's message. Revisions the service's retention pruned
say so; a last line says what the service keeps and its quota.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape

from taxiway.cli import table_view
from taxiway.client.regions import parse_time
from taxiway.plan import outcomes as revision_outcomes
from taxiway.plan.sizes import shown_bytes
from taxiway.spec.manifest import ENVIRONMENTS


def _created(value: Any) -> str:
    at = parse_time(value)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def _cell(revision: Mapping[str, Any], outcome: Mapping[str, Any] | None, environment: str) -> str:
    if outcome is None:
        return "not deployed" if environment in (revision.get("environments") or []) else "-"
    state = str(outcome.get("state"))
    label = revision_outcomes.LABELS.get(state, state)
    if outcome.get("state") == "failed":
        failed = [r for r, v in (outcome.get("regions") or {}).items() if v.get("state") == "failed"]
        label += f" ({', '.join(failed)})" if failed else ""
    return label


def print_revisions(
    console: Console,
    service: str,
    revisions: Sequence[Mapping[str, Any]],
    current: Mapping[str, int],
    outcomes: Mapping[int, Mapping[str, Mapping[str, Any]]],
    storage: Mapping[str, Any] | None = None,
) -> None:
    """``current`` maps each environment to the revision it points at; ``outcomes`` each
    revision number to its outcome document per environment; ``storage`` the answer of
    ``GET /v1/services/{service}/storage``."""
    if not revisions:
        console.print(f"{service} has no revisions yet; `taxiway deploy` makes the first", highlight=False)
        return
    ordered = sorted(revisions, key=lambda r: int(r.get("number") or 0), reverse=True)
    table_view.print_table(
        console,
        ["REVISION", "CREATED BY", "CREATED AT", "DIGEST", "CURRENT IN", *(e.upper() for e in ENVIRONMENTS)],
        [
            [
                str(r.get("number")),
                str(r.get("created_by") or "-"),
                _created(r.get("created_at")),
                table_view.short_digest(r.get("digest")),
                "pruned"
                if r.get("pruned_at")
                else ", ".join(env for env, number in current.items() if number == r.get("number")),
                *(_cell(r, outcomes.get(int(r.get("number") or 0), {}).get(e), e) for e in ENVIRONMENTS),
            ]
            for r in ordered
        ],
    )
    notes = [
        f"  revision {r.get('number')} in {env}: {outcome.get('summary')}"
        for r in ordered
        for env, outcome in sorted(outcomes.get(int(r.get("number") or 0), {}).items())
        if outcome.get("state") in ("failed", "rolled_back")
    ]
    if notes:
        console.print("")
        for note in notes:
            console.print(escape(note), highlight=False, soft_wrap=True)
    if storage:
        console.print("")
        console.print(escape(_kept_line(storage)), highlight=False, soft_wrap=True)


def _kept_line(storage: Mapping[str, Any]) -> str:
    kept = storage.get("kept") or []
    return (
        f"Kept: {len(kept)} revision{'s' if len(kept) != 1 else ''}, "
        f"{shown_bytes(int(storage.get('artifact_bytes') or 0))} of artifacts of a "
        f"{shown_bytes(int(storage.get('quota_bytes') or 0))} quota; older ones are pruned "
        f"(the newest {storage.get('keep_newest')} stay, and what each environment runs or would "
        "roll back to)"
    )
