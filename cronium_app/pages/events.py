"""/events: the list of the user's events."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.ascode import ascode_buttons
from cronium_app.components.execute import execute_button
from cronium_app.components.feedback import empty_state
from cronium_app.components.list_page import list_page, name_cell, paged_table, search_box
from cronium_app.components.roles import create_link
from cronium_app.components.status import EVENT_TYPE_LABELS, event_status_badge, event_type_badge
from cronium_app.components.styles import WIDE_CELL
from cronium_app.state.events import ALL, EVENT_STATUSES, EventListState

COLUMNS = [("Name", False), ("Type", True), ("Status", False), ("Schedule", True), ("Updated", True), ("", False)]


def _filters() -> rx.Component:
    return rx.flex(
        search_box(EventListState, "events", "Search name or description"),
        rx.select.root(
            rx.select.trigger(placeholder="Type", id="events-type-filter", aria_label="Type"),
            rx.select.content(
                rx.select.item("All types", value=ALL),
                *[rx.select.item(label, value=key) for key, label in EVENT_TYPE_LABELS.items()],
            ),
            value=EventListState.type_filter,
            on_change=EventListState.set_type_filter,
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Status", id="events-status-filter", aria_label="Status"),
            rx.select.content(
                rx.select.item("All statuses", value=ALL),
                *[rx.select.item(status.capitalize(), value=status) for status in EVENT_STATUSES],
            ),
            value=EventListState.status_filter,
            on_change=EventListState.set_status_filter,
        ),
        rx.cond(
            EventListState.filtered,
            rx.button("Clear", variant="ghost", color_scheme="gray", on_click=EventListState.clear_filters),
        ),
        rx.cond(EventListState.loading, rx.spinner(size="2")),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
        margin_bottom="16px",
    )


def _row(event) -> rx.Component:
    return rx.table.row(
        name_cell(event["name"], event["href"], event["description"], "event-link"),
        rx.table.cell(event_type_badge(event["type"]), display=WIDE_CELL),
        rx.table.cell(event_status_badge(event["status"])),
        rx.table.cell(rx.text(event["schedule"], size="2", white_space="nowrap"), display=WIDE_CELL),
        rx.table.cell(
            rx.text(event["updated"], size="2", color_scheme="gray", white_space="nowrap"), display=WIDE_CELL
        ),
        rx.table.cell(execute_button(event["id"], size="1"), text_align="right"),
        align="center",
        custom_attrs={"data-testid": "event-row", "data-event-id": event["id"]},
    )


def page() -> rx.Component:
    return list_page(
        EventListState,
        "Events",
        rx.flex(
            ascode_buttons(),
            create_link("New event", routes.EVENT_NEW, "new-event"),
            spacing="2", wrap="wrap", align="center",
        ),
        _filters(),
        paged_table(EventListState, "events", COLUMNS, _row),
        filtered=EventListState.filtered,
        no_match=empty_state(
            "search-x",
            "No events match",
            "Try other words, or clear the filters.",
            rx.button("Clear filters", variant="soft", on_click=EventListState.clear_filters),
            id="events-empty",
        ),
        empty=empty_state(
            "square-terminal",
            "No events yet — create one",
            "An event is a Bash, Python or Node.js script, or an HTTP request, "
            "that runs in a locked-down container.",
            create_link("Create an event", routes.EVENT_NEW),
            id="events-empty",
        ),
        loading_label="Loading events…",
    )
