"""A schedule's state on its row (an event or a workflow), kept in step
with what the user saves: validation, `next_fire_at` and previews.

The event and workflow services call `on_saved` after applying a create or
an update, in the same transaction, so a change applies at once: a pause
clears `next_fire_at` (nothing fires), a resume or an edit computes it anew
from now, and a deleted row has nothing left to fire. Saving a row whose
schedule fields, status and limit did not change keeps its next fire time
(an interval does not restart because the name was edited).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from cronium_app.errors import Invalid
from cronium_app.schedules.triggers import (
    MANUAL,
    ONCE,
    IntervalSchedule,
    ScheduleError,
    ScheduleSpec,
    compile_schedule,
    first_fire,
    in_zone,
    validate,
)
from cronium_app.timeutil import as_utc, isoformat

ACTIVE = "active"
_SCHEDULE_ATTRS = ("schedule_type", "cron_expression", "interval_seconds", "run_at", "timezone", "start_at")


def snapshot(row: Any) -> tuple:
    """What `on_saved` compares: the schedule fields, the status, the limit."""
    return (*(getattr(row, name) for name in _SCHEDULE_ATTRS), row.status, row.max_executions)


def invalid(exc: ScheduleError) -> Invalid:
    return Invalid(str(exc), fields=exc.problems)


def exhausted(row: Any) -> bool:
    return row.max_executions > 0 and row.execution_count >= row.max_executions


def paused_reason(row: Any) -> str | None:
    """Why a paused schedule does not fire, when the scheduler paused it."""
    if row.status != "paused" or not exhausted(row):
        return None
    return (f"maxExecutions reached: ran {row.execution_count} of {row.max_executions} times. "
            "Raise maxExecutions, or set it to 0 (no limit), to resume")


def on_saved(row: Any, before: tuple | None, now: datetime) -> None:
    """Validate a created (`before` None) or updated row's schedule and set
    its `next_fire_at`. Raises Invalid (422) with a message per bad field."""
    spec = ScheduleSpec.of(row)
    after = snapshot(row)
    schedule_changed = before is None or _normalized(before[:6]) != _normalized(after[:6])
    status_changed = before is None or before[6] != after[6]
    limit_changed = before is None or before[7] != after[7]
    if not (schedule_changed or status_changed or limit_changed):
        return
    if schedule_changed:
        run_at_set = before is None or spec.type != before[0] or _utc(before[3]) != spec.run_at
        try:
            # The zone as saved: `ScheduleSpec.of` reads an empty one as UTC
            # (for old rows), but a save must not store one.
            validate(replace(spec, timezone=row.timezone), now, refuse_past=spec.type == ONCE and run_at_set)
        except ScheduleError as exc:
            raise invalid(exc) from None
    fires = row.status == ACTIVE and spec.type != MANUAL
    if fires and exhausted(row):
        raise Invalid(
            f"maxExecutions ({row.max_executions}) is reached: this schedule has run {row.execution_count} "
            "times. Raise maxExecutions, or set it to 0 (no limit), to let it run again",
            fields={"maxExecutions": f"already reached ({row.execution_count} runs)"},
        )
    if schedule_changed or status_changed:
        row.queued_fire_at = None
        row.next_fire_at = first_fire(spec, now) if fires else None
        if fires and row.next_fire_at is None and spec.type == ONCE:  # resumed after its date
            raise Invalid(
                f"the one-time date {isoformat(spec.run_at)} has passed: set a later runAt to run it again",
                fields={"runAt": f"{isoformat(spec.run_at)} has passed"},
            )


def _utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _normalized(values: tuple) -> tuple:
    return tuple(_utc(v) if isinstance(v, datetime) else v for v in values)


def preview(row: Any, count: int, now: datetime) -> list[datetime]:
    """The next `count` fire times of a saved row: from its stored next fire
    time when it is active, else as if it were resumed now; no more than the
    runs `max_executions` leaves."""
    spec = ScheduleSpec.of(row)
    if spec.type == MANUAL:
        return []
    if row.max_executions > 0:
        count = min(count, max(0, row.max_executions - row.execution_count))
    first = as_utc(row.next_fire_at) if row.status == ACTIVE and row.next_fire_at is not None else None
    if first is None:
        try:
            first = first_fire(spec, now)
        except ScheduleError:
            return []
    schedule = compile_schedule(spec, anchor=first or now)
    return schedule.upcoming(first, count) if schedule is not None else []


def preview_spec(spec: ScheduleSpec, count: int, now: datetime) -> list[datetime]:
    """The first `count` fire times of a schedule that is not saved yet.
    Raises Invalid for anything the save would refuse."""
    try:
        schedule = validate(spec, now, refuse_past=True)
    except ScheduleError as exc:
        raise invalid(exc) from None
    if schedule is None:
        return []
    first = first_fire(spec, now)
    if isinstance(schedule, IntervalSchedule) and first is not None:
        schedule = compile_schedule(spec, anchor=first)
    return schedule.upcoming(first, count)


def preview_to_dict(spec: ScheduleSpec, times: list[datetime], **extra: Any) -> dict[str, Any]:
    return {
        "scheduleType": spec.type,
        "timezone": spec.timezone,
        "fireTimes": [in_zone(t, spec.timezone) for t in times],
        "fireTimesUtc": [isoformat(t) for t in times],
        **extra,
    }


def schedule_to_dict(row: Any) -> dict[str, Any]:
    """The schedule fields as the API shows them (camelCase)."""
    return {
        "scheduleType": row.schedule_type,
        "cronExpression": row.cron_expression,
        "intervalSeconds": row.interval_seconds,
        "runAt": isoformat(row.run_at),
        "timezone": row.timezone,
        "startAt": isoformat(row.start_at),
        "maxExecutions": row.max_executions,
        "executionCount": row.execution_count,
        "misfirePolicy": row.misfire_policy,
        "overlapPolicy": row.overlap_policy,
        "nextFireAt": isoformat(row.next_fire_at),
        "queuedFireAt": isoformat(row.queued_fire_at),
        "pausedReason": paused_reason(row),
    }
