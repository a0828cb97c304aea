"""The schedule fields of the event and workflow editors, with the next fire
times shown while the user edits them.

The preview and its messages come from the scheduler itself
(`scheduler.state.preview_spec`, the check a save runs), so the editor shows
exactly the times the scheduler will use and refuses what it would refuse:
an invalid cron expression, an interval under 10 seconds, an unknown time
zone, a one-time date in the past.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx
from pydantic import ValidationError

from cronium_app.display.formatting import is_known_zone, local, zone
from cronium_app.display.messages import service_field_errors, validation_field_errors
from cronium_app.errors import CroniumError
from cronium_app.schedules import state as schedule_state
from cronium_app.schedules.schemas import ScheduleTimes
from cronium_app.timeutil import utcnow

SCHEDULE_TYPES = ("manual", "cron", "interval", "once")
PREVIEW_COUNT = 5

# Form field -> the key its errors use (the API's field names).
SCHEDULE_KEYS = {
    "schedule_type": "scheduleType",
    "cron_expression": "cronExpression",
    "interval_seconds": "intervalSeconds",
    "run_at": "runAt",
    "timezone": "timezone",
    "start_at": "startAt",
    "max_executions": "maxExecutions",
    "misfire_policy": "misfirePolicy",
    "overlap_policy": "overlapPolicy",
}
MISFIRE_POLICIES = ("run_once", "skip", "run_all")
OVERLAP_POLICIES = ("skip", "allow", "queue")
_CHOICES = {"schedule_type": SCHEDULE_TYPES, "misfire_policy": MISFIRE_POLICIES, "overlap_policy": OVERLAP_POLICIES}
# The field a schedule type cannot do without, and what to say while it is empty.
_MAIN_FIELD = {
    "cron": ("cron_expression", "Enter a cron expression to see the next runs."),
    "interval": ("interval_seconds", "Enter a number of seconds to see the next runs."),
    "once": ("run_at", "Pick a date and time to see when it runs."),
}
_BOUNDED = {"intervalSeconds": ("The interval", "second")}


def fire_time_text(moment: datetime, tz: str) -> str:
    """One fire time as the preview lists it, in the schedule's time zone."""
    shown = local(moment, tz)
    return shown.strftime("%a %Y-%m-%d %H:%M:%S ") + (shown.tzname() or tz) if shown else ""


class ScheduleFormMixin(rx.State, mixin=True):
    """Expects the editor's `errors` dict and `_touch` (EditorMixin)."""

    schedule_type: str = "manual"
    cron_expression: str = ""
    interval_seconds: str = ""
    run_at: str = ""
    timezone: str = "UTC"
    start_at: str = ""
    max_executions: str = "0"
    misfire_policy: str = "run_once"
    overlap_policy: str = "skip"
    # Why the scheduler paused it (its run limit was reached), or "".
    paused_reason: str = ""

    # The preview: the next fire times, or a line saying why there are none.
    fire_times: list[str] = []
    schedule_hint: str = ""

    # -- the form ----------------------------------------------------------------------

    def _fill_schedule(self, row: dict[str, Any]) -> None:
        self.schedule_type = row.get("scheduleType") or "manual"
        self.cron_expression = row.get("cronExpression") or ""
        self.interval_seconds = str(row["intervalSeconds"]) if row.get("intervalSeconds") else ""
        self.timezone = row.get("timezone") or "UTC"
        self.paused_reason = row.get("pausedReason") or ""
        self.run_at = self._local_input(row.get("runAt"))
        self.start_at = self._local_input(row.get("startAt"))
        self.max_executions = str(row.get("maxExecutions") or 0)
        self.misfire_policy = row.get("misfirePolicy") or "run_once"
        self.overlap_policy = row.get("overlapPolicy") or "skip"
        # A saved one-time date may have passed (it ran): say so quietly.
        self._refresh_preview(show_problems=False)

    def _local_input(self, moment: str | None) -> str:
        """A stored UTC time as a datetime-local input shows it, in the schedule's zone."""
        shown = local(moment, self.timezone) if moment else None
        return shown.strftime("%Y-%m-%dT%H:%M") if shown else ""

    def _zoned(self, text: str, tz: str, key: str, problems: dict[str, str]) -> str | None:
        if not text.strip():
            return None
        try:
            return datetime.fromisoformat(text.strip()).replace(tzinfo=zone(tz)).isoformat()
        except ValueError:
            problems[key] = "Enter a date and time."
            return None

    def _schedule_values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The schedule fields as the services take them, and what is wrong
        with the text typed (before the scheduler's own checks)."""
        problems: dict[str, str] = {}
        interval: int | None = None
        if self.interval_seconds.strip():
            try:
                interval = int(self.interval_seconds.strip())
            except ValueError:
                problems["intervalSeconds"] = "Enter a whole number of seconds."
        tz = self.timezone.strip() or "UTC"
        if not is_known_zone(tz):
            problems["timezone"] = "Use a time zone name such as UTC or Europe/Paris."
        tz_for_dates = tz if "timezone" not in problems else "UTC"
        values = {
            "scheduleType": self.schedule_type,
            "cronExpression": self.cron_expression.strip() or None,
            "intervalSeconds": interval,
            "runAt": self._zoned(self.run_at, tz_for_dates, "runAt", problems),
            "timezone": tz,
            "startAt": self._zoned(self.start_at, tz_for_dates, "startAt", problems),
        }
        return values, problems

    def _schedule_payload(self, problems: dict[str, str]) -> dict[str, Any]:
        """The schedule part of a save; adds what is missing to `problems`."""
        values, found = self._schedule_values()
        problems.update(found)
        # The scheduler checks the rest when the row is saved.
        if self.schedule_type == "cron" and not values["cronExpression"]:
            problems["cronExpression"] = "A cron schedule needs an expression, such as */5 * * * *."
        if self.schedule_type == "interval" and not values["intervalSeconds"] and "intervalSeconds" not in problems:
            problems["intervalSeconds"] = "An interval schedule needs a number of seconds."
        if self.schedule_type == "once" and not values["runAt"] and "runAt" not in problems:
            problems["runAt"] = "A one-off schedule needs a date and time."
        limit = self.max_executions.strip() or "0"
        if not limit.isdigit():
            problems["maxExecutions"] = "Enter 0 (no limit) or a whole number of runs."
        values.update(
            {
                "maxExecutions": int(limit) if limit.isdigit() else 0,
                "misfirePolicy": self.misfire_policy,
                "overlapPolicy": self.overlap_policy,
            }
        )
        return values

    # -- the preview -------------------------------------------------------------------

    def _preview(self) -> tuple[list[str], str, dict[str, str]]:
        """(fire times, hint, problems) for the schedule as typed."""
        if self.schedule_type == "manual":
            return [], "Runs only when started by hand.", {}
        field, waiting = _MAIN_FIELD.get(self.schedule_type, ("", ""))
        if field and not getattr(self, field).strip():
            return [], waiting, {}
        values, problems = self._schedule_values()
        if problems:
            return [], "", problems
        try:
            spec = ScheduleTimes.model_validate(values).spec()
            times = schedule_state.preview_spec(spec, PREVIEW_COUNT, utcnow())
        except ValidationError as exc:
            return [], "", validation_field_errors(
                exc, bounds=_BOUNDED, fields=SCHEDULE_KEYS.values(), elsewhere="scheduleType"
            )
        except CroniumError as exc:
            return [], "", service_field_errors(exc)
        if not times:
            return [], "This schedule has no runs left.", {}
        return [fire_time_text(t, spec.timezone) for t in times], "", {}

    def _refresh_preview(self, show_problems: bool = True) -> None:
        times, hint, problems = self._preview()
        self.fire_times = times
        if problems and not show_problems:
            hint = next(iter(problems.values()))
        self.schedule_hint = hint
        if show_problems:
            kept = {k: v for k, v in self.errors.items() if k not in SCHEDULE_KEYS.values()}
            if problems or len(kept) != len(self.errors):
                self.errors = {**kept, **problems}

    def _set_schedule(self, field: str, value: str) -> None:
        if field not in SCHEDULE_KEYS:
            return
        value = "" if value is None else str(value)
        if field in _CHOICES and value not in _CHOICES[field]:
            return
        setattr(self, field, value)
        self._touch(SCHEDULE_KEYS[field])
        self._refresh_preview()

    @rx.event
    def set_schedule_field(self, field: str, value: str):
        self._set_schedule(field, value)
