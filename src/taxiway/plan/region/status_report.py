"""Status reports (:class:`taxiway.wire.region_status.Report`), built from one reconcile. Pure.

The reconciler calls :func:`build` after each tick with the desired state, the plan, what
the driver lists, the supervisor's restart tracks, the probe verdicts of instances that
are not ready, and a function that reads an instance's last log lines (called only for
failing instances). The reporter sends the result as ``reports`` of the status PUT.

An instance of the desired revision is *failing* when it is not ready and its startup
probe gave up, or it failed :data:`FAILURES_FOR_FAILED` times in a row (crashes, failed
liveness, failed starts); its (service, environment) is then ``failed``, and so it is
when placement found no room or the definition cannot run here at all. The message names
the instance, the probe and the reason; only failing instances carry their ``log_tail``.

Each instance says whether it is ``in_rotation``: a server of the region ingress that
takes traffic now (admitted, not draining, up by HAProxy's checks). Without an ingress,
or for staging, it is always false. An instance that drains says so in its ``reason``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from taxiway.plan.region import instance_spec, reconcile, rotation, supervision
from taxiway.wire import region_status

log = logging.getLogger(__name__)

FAILURES_FOR_FAILED = 3
STARTUP_GAVE_UP = "startup probe failed"
DRAINING = "draining from the ingress before it stops"
NO_ROTATION = rotation.Seen(known=False)


def failing_reason(
    instance: instance_spec.Instance | None, track: supervision.Track, ready: bool
) -> str | None:
    """Why this instance of the desired revision counts as failed, or ``None``."""
    if ready:
        return None
    reason = track.last_reason or "unknown reason"
    if track.gave_up:
        return (
            f"gave up after {track.failures} failed starts, last: {reason}; stopped, its logs kept "
            "(deploy again to retry)"
        )
    if track.last_reason and track.last_reason.startswith(STARTUP_GAVE_UP):
        return reason
    if track.failures >= FAILURES_FOR_FAILED:
        restarts = instance.restarts if instance is not None else track.failures
        return f"failed {track.failures} times in a row (restarted {restarts} times), last: {reason}"
    return None


def _state(instance: instance_spec.Instance | None) -> str:
    if instance is None:
        return "starting"
    return "running" if instance.state is instance_spec.InstanceState.RUNNING else "exited"


def _instance_json(
    instance_id: str,
    instance: instance_spec.Instance | None,
    spec: instance_spec.InstanceSpec | None,
    *,
    ready: bool,
    reason: str | None,
    log_tail: Sequence[str],
    host: str,
    in_rotation: bool,
) -> region_status.InstanceReport:
    port = instance.port if instance is not None else None
    return region_status.InstanceReport(
        id=instance_id,
        revision=instance.revision if instance is not None else (spec.revision if spec else None),
        datacenter=instance.datacenter if instance is not None else (spec.datacenter if spec else None),
        node=instance.node if instance is not None else (spec.node if spec else None),
        pid=instance.pid if instance is not None else None,
        endpoint=f"http://{host}:{port}" if port else None,
        state=_state(instance),
        ready=ready,
        in_rotation=in_rotation,
        restarts=instance.restarts if instance is not None else 0,
        reason=reason,
        log_tail=list(log_tail),
    )


def _one(
    item: reconcile.Desired,
    key_plan: reconcile.KeyPlan,
    members: Sequence[instance_spec.Instance],
    tracks: Mapping[str, supervision.Track],
    reasons: Mapping[str, str],
    log_tail: Callable[[str], Sequence[str]],
    host: str,
    seen: rotation.Seen,
) -> dict[str, Any]:
    by_id = {instance.instance_id: instance for instance in members}
    failing: dict[str, str] = {}
    instances = []
    for wanted_id in key_plan.wanted:
        instance = by_id.get(wanted_id)
        ready = wanted_id in key_plan.ready
        why = failing_reason(instance, tracks.get(wanted_id, supervision.Track()), ready)
        if why is not None:
            failing[wanted_id] = why
        reason = why or (None if ready else reasons.get(wanted_id))
        if wanted_id in key_plan.unplaced:
            reason = "no healthy node has room"
        elif why is None and wanted_id in seen.draining:
            reason = DRAINING  # moving off a failed node
        tail = log_tail(wanted_id) if why is not None and instance is not None else ()
        instances.append(
            _instance_json(
                wanted_id,
                instance,
                key_plan.specs.get(wanted_id),
                ready=ready,
                reason=reason,
                log_tail=tail,
                host=host,
                in_rotation=wanted_id in seen.serving,
            )
        )
    for instance in members:
        if instance.instance_id in key_plan.wanted:
            continue
        reason = "kept until the new revision is ready" if instance.instance_id in key_plan.stale else None
        if instance.instance_id in seen.draining:
            reason = DRAINING
        instances.append(
            _instance_json(
                instance.instance_id,
                instance,
                None,
                ready=instance.ready and instance.state is instance_spec.InstanceState.RUNNING,
                reason=reason,
                log_tail=(),
                host=host,
                in_rotation=instance.instance_id in seen.serving,
            )
        )

    desired_count = item.instances
    ready_count = len(key_plan.ready)
    # Ready means serving: where the ingress routes this environment, an instance its own
    # check turns away (an app that answers the satellite's probe but not HAProxy's) is not.
    routed = seen.known and item.environment == rotation.ENVIRONMENT
    outside = [i for i in key_plan.wanted if routed and i not in seen.serving]
    held = dict(seen.held).get(item.service) if item.environment == rotation.ENVIRONMENT else None
    if item.removed:
        phase = "removed"
        message = "removed" if not members else f"removing {len(members)} instances"
    elif item.problem or key_plan.problem:
        phase, message = "failed", f"cannot run revision {item.revision}: {item.problem or key_plan.problem}"
    elif held:
        phase = "failed"
        message = f"the region ingress cannot check revision {item.revision}, so holds it back: {held}"
    elif key_plan.unplaced:
        phase = "failed"
        message = (
            f"no room for {', '.join(key_plan.unplaced)}: no healthy node of the region has the cpu, "
            "memory or instance slots left"
        )
    elif failing:
        phase = "failed"
        message = "; ".join(f"{instance_id}: {why}" for instance_id, why in sorted(failing.items()))
    elif item.waiting:
        phase, message = "progressing", item.waiting
    elif ready_count == desired_count and outside:
        phase = "progressing"
        message = (
            f"{ready_count}/{desired_count} instances ready, {len(outside)} not in rotation at the "
            f"region ingress yet (its check of {outside[0]} has not passed)"
        )
    elif ready_count == desired_count and not key_plan.stale:
        phase, message = "ready", f"{ready_count}/{desired_count} instances ready"
    else:
        phase = "progressing"
        message = f"{ready_count}/{desired_count} instances ready"
        if key_plan.stale:
            message += f"; {len(key_plan.stale)} of an older revision kept until then"
        pending = [i for i in key_plan.wanted if i not in key_plan.ready]
        if pending and reasons.get(pending[0]):
            message += f"; {pending[0]}: {reasons[pending[0]]}"
    if phase == "failed" and key_plan.stale:
        message += f" ({len(key_plan.stale)} instances of an older revision keep running)"
    document = region_status.Report(
        revision=item.revision,
        desired_instances=desired_count,
        ready_instances=ready_count,
        phase=phase,
        message=message,
        instances=instances,
    )
    return document.model_dump()


class ReportBuilder:
    """Builds every (service, environment)'s report, again only for those whose inputs changed.

    At 10,000 instances a quiet tick changes nothing, and rebuilding (and re-encoding, to
    compare) every report each tick would cost more than the rest of the tick; a report
    is a pure function of its (service, environment)'s desired state, plan, instances,
    restart tracks and probe reasons, so those are what is compared. A failed report is
    always rebuilt: its log tails change without any of its inputs.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._memo: dict[reconcile.Key, tuple[tuple[Any, ...], dict[str, Any], str]] = {}

    def build(
        self,
        desired: Mapping[reconcile.Key, reconcile.Desired],
        plan: reconcile.Plan,
        observed: Sequence[instance_spec.Instance],
        tracks: Mapping[str, supervision.Track],
        reasons: Mapping[str, str],
        log_tail: Callable[[str], Sequence[str]],
        seen: rotation.Seen | None = None,
    ) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """The reports, one per (service, environment) of ``desired``, without
        ``observed_at`` (see :func:`stamped`), and what they say as text (equal texts: no
        news). ``reasons`` holds the probe verdicts of wanted instances that are not ready;
        ``seen`` what the ingress holds (``None``: there is no ingress).
        """
        seen = NO_ROTATION if seen is None else seen
        by_key: dict[reconcile.Key, list[instance_spec.Instance]] = {}
        for instance in observed:
            by_key.setdefault((instance.service, instance.environment), []).append(instance)
        reports: list[dict[str, Any]] = []
        texts: list[str] = []
        memo: dict[reconcile.Key, tuple[tuple[Any, ...], dict[str, Any], str]] = {}
        for key, item in sorted(desired.items()):
            key_plan = plan.keys.get(key, reconcile.KeyPlan())
            members = tuple(sorted(by_key.get(key, []), key=lambda i: i.instance_id))
            inputs = (
                item,
                key_plan,
                members,
                tuple(tracks.get(i) for i in key_plan.wanted),
                tuple(reasons.get(i) for i in key_plan.wanted),
                _rotation(seen, key_plan.wanted, members),
            )
            cached = self._memo.get(key)
            if cached is not None and cached[0] == inputs:
                body, text = cached[1], cached[2]
            else:
                try:
                    body = _one(item, key_plan, members, tracks, reasons, log_tail, self._host, seen)
                except Exception as exc:  # one service's report never stops the others'
                    log.exception("reporting %s/%s failed", *key)
                    body = _unreportable(item, exc)
                text = json.dumps(body, sort_keys=True, separators=(",", ":"))
            if body["phase"] != "failed":
                memo[key] = (inputs, body, text)
            reports.append({"service": key[0], "environment": key[1], "report": body})
            texts.append(text)
        self._memo = memo
        return reports, tuple(texts)


def _unreportable(item: reconcile.Desired, exc: Exception) -> dict[str, Any]:
    document = region_status.Report(
        revision=item.revision,
        desired_instances=item.instances,
        ready_instances=0,
        phase="failed",
        message=f"the satellite cannot report on revision {item.revision}: {type(exc).__name__}: {exc}",
    )
    return document.model_dump()


def build(
    desired: Mapping[reconcile.Key, reconcile.Desired],
    plan: reconcile.Plan,
    observed: Sequence[instance_spec.Instance],
    tracks: Mapping[str, supervision.Track],
    reasons: Mapping[str, str],
    log_tail: Callable[[str], Sequence[str]],
    host: str = "127.0.0.1",
    seen: rotation.Seen | None = None,
) -> list[dict[str, Any]]:
    """:meth:`ReportBuilder.build`'s reports, built once."""
    return ReportBuilder(host).build(desired, plan, observed, tracks, reasons, log_tail, seen)[0]


def _rotation(
    seen: rotation.Seen, wanted: Sequence[str], members: Sequence[instance_spec.Instance]
) -> tuple[tuple[bool, bool], ...]:
    """What the ingress says of these instances, as a report's memo compares it."""
    ids = (*wanted, *(i.instance_id for i in members))
    return tuple((i in seen.serving, i in seen.draining) for i in ids)


def stamped(reports: Sequence[Mapping[str, Any]], observed_at: str) -> list[dict[str, Any]]:
    """``reports`` as sent: each with the time it was observed (ISO 8601, UTC).

    Kept apart from building, so that reports that did not change are built once and
    only re-stamped, and so that comparing two builds compares what they say.
    """
    return [{**item, "report": {**item["report"], "observed_at": observed_at}} for item in reports]
