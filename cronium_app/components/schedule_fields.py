"""The Schedule card of the event and workflow editors: type, expression,
interval or date, time zone, and the next fire times as the form stands.

`S` is a state with ScheduleFormMixin and EditorMixin (errors)."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.forms import invalid_props, labelled, section
from cronium_app.components.styles import MONO

TIMEZONES = (
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
)
KINDS = [
    ("manual", "Manually"),
    ("cron", "On a cron schedule"),
    ("interval", "Every N seconds"),
    ("once", "Once, at a set time"),
]
MISFIRE_LABELS = [("run_once", "Run once"), ("skip", "Skip them"), ("run_all", "Run each (up to 100)")]
OVERLAP_LABELS = [("skip", "Skip this run"), ("allow", "Run alongside"), ("queue", "Queue one run")]
# Typing in a schedule field refreshes the preview once the typing pauses.
DEBOUNCE_MS = 400


def _input(S, field: str, key: str, **props) -> rx.Component:
    return rx.input(
        value=getattr(S, field),
        on_change=lambda value: S.set_schedule_field(field, value),
        debounce_timeout=DEBOUNCE_MS,
        id=f"field-{field}",
        width="100%",
        **invalid_props(S.errors, key),
        **props,
    )


def _select(S, field: str, key: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=f"field-{field}", width="100%", **invalid_props(S.errors, key)),
        rx.select.content(*[rx.select.item(label, value=value) for value, label in options]),
        value=getattr(S, field),
        on_change=lambda value: S.set_schedule_field(field, value),
    )


def _policies(S) -> rx.Component:
    """Start, run limit, and what happens to missed and overlapping runs."""
    fields = (
        ("Starts at", _input(S, "start_at", "startAt", type="datetime-local"), "startAt", "Optional: no runs before this."),
        ("Run limit", _input(S, "max_executions", "maxExecutions", type="number", min=0), "maxExecutions",
         "0 = no limit; paused when reached."),
        ("Missed runs", _select(S, "misfire_policy", "misfirePolicy", MISFIRE_LABELS), "misfirePolicy",
         "When the app was down at a run time."),
        ("Still running", _select(S, "overlap_policy", "overlapPolicy", OVERLAP_LABELS), "overlapPolicy",
         "When the previous run has not ended."),
    )
    return rx.grid(
        *[labelled(label, control, errors=S.errors, key=key, hint=hint) for label, control, key, hint in fields],
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="4",
        width="100%",
    )


def fire_time_list(S) -> rx.Component:
    return rx.vstack(
        rx.text("Next runs", size="2", weight="medium"),
        rx.cond(
            S.fire_times.length() > 0,
            rx.el.ol(
                rx.foreach(
                    S.fire_times,
                    lambda moment: rx.el.li(
                        moment,
                        font_family=MONO,
                        font_size="13px",
                        custom_attrs={"data-testid": "fire-time"},
                    ),
                ),
                margin="0",
                padding_left="22px",
                color=rx.color("gray", 12),
            ),
            rx.text(
                rx.cond(S.schedule_hint != "", S.schedule_hint, "Fix the schedule above to see its next runs."),
                size="2",
                color_scheme="gray",
                id="schedule-hint",
            ),
        ),
        spacing="1",
        width="100%",
        padding="10px 12px",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 4)}",
        border_radius="var(--radius-3)",
        id="schedule-preview",
    )


def schedule_section(S, description: str) -> rx.Component:
    return section(
        "Schedule",
        rx.cond(
            S.paused_reason != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("circle-pause")),
                rx.callout.text("Paused by the scheduler: ", S.paused_reason, "."),
                color_scheme="amber",
                size="1",
                width="100%",
                id="schedule-paused-reason",
            ),
        ),
        rx.grid(
            labelled("Runs", _select(S, "schedule_type", "scheduleType", KINDS), errors=S.errors, key="scheduleType"),
            rx.match(
                S.schedule_type,
                (
                    "cron",
                    labelled(
                        "Cron expression",
                        _input(S, "cron_expression", "cronExpression", placeholder="*/5 * * * *", font_family=MONO),
                        errors=S.errors,
                        key="cronExpression",
                        hint="minute hour day month weekday",
                    ),
                ),
                (
                    "interval",
                    labelled(
                        "Interval (seconds)",
                        _input(S, "interval_seconds", "intervalSeconds", type="number", min=10),
                        errors=S.errors,
                        key="intervalSeconds",
                        hint="At least 10 seconds.",
                    ),
                ),
                (
                    "once",
                    labelled(
                        "Run at",
                        _input(S, "run_at", "runAt", type="datetime-local"),
                        errors=S.errors,
                        key="runAt",
                        hint="In the time zone beside it.",
                    ),
                ),
                rx.fragment(),
            ),
            labelled(
                "Time zone",
                _input(S, "timezone", "timezone", placeholder="UTC", list="cronium-timezones"),
                errors=S.errors,
                key="timezone",
            ),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.el.datalist(*[rx.el.option(value=name) for name in TIMEZONES], id="cronium-timezones"),
        rx.cond(S.schedule_type != "manual", _policies(S)),
        fire_time_list(S),
        description=description,
        id="schedule-section",
    )
