"""Job and event status badges, coloured the same everywhere."""

from __future__ import annotations

import reflex as rx

JOB_STATUS_COLORS = {
    "pending": "gray",
    "acknowledged": "cyan",
    "running": "blue",
    "completed": "green",
    "failed": "red",
    "timed_out": "orange",
    "cancelled": "amber",
    # Terminal: the job ran on several servers and only some succeeded.
    "partial": "orange",
}
JOB_STATUS_LABELS = {"timed_out": "timed out"}
JOB_STATUSES = list(JOB_STATUS_COLORS)

EVENT_STATUS_COLORS = {"draft": "gray", "active": "green", "paused": "amber", "archived": "gray"}
EVENT_TYPE_LABELS = {"bash": "Bash", "python": "Python", "node": "Node.js", "http": "HTTP", "tool": "Tool"}


def _color(status, colors: dict[str, str]):
    return rx.match(status, *[(key, value) for key, value in colors.items()], "gray")


def _label(status):
    return rx.match(status, *[(key, value) for key, value in JOB_STATUS_LABELS.items()], status)


def job_status_badge(status, size: str = "2", **props) -> rx.Component:
    return rx.badge(
        rx.cond(
            (status == "running") | (status == "acknowledged"),
            rx.spinner(size="1"),
            rx.box(width="6px", height="6px", border_radius="50%", background="currentColor"),
        ),
        _label(status),
        color_scheme=_color(status, JOB_STATUS_COLORS),
        variant="soft",
        size=size,
        radius="full",
        gap="6px",
        white_space="nowrap",
        custom_attrs={"data-status": status},
        **props,
    )


def event_status_badge(status, **props) -> rx.Component:
    return rx.badge(status, color_scheme=_color(status, EVENT_STATUS_COLORS), variant="outline", **props)


def event_type_badge(kind, **props) -> rx.Component:
    return rx.badge(
        rx.match(kind, *[(key, value) for key, value in EVENT_TYPE_LABELS.items()], kind),
        variant="surface",
        color_scheme="gray",
        **props,
    )
