"""/events: the list of the user's events."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.execute import execute_button
from cronium_app.components.feedback import empty_state, error_callout, loading_block
from cronium_app.components.jobs_list import WIDE_CELL
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.status import EVENT_TYPE_LABELS, event_status_badge, event_type_badge
from cronium_app.pages import routes
from cronium_app.state.events import ALL, EVENT_STATUSES, EventListState


def _filters() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search name or description",
            value=EventListState.q,
            on_change=EventListState.set_q,
            debounce_timeout=300,
            id="events-search",
            width="100%",
            max_width=rx.breakpoints(initial="100%", sm="320px"),
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Type", id="events-type-filter"),
            rx.select.content(
                rx.select.item("All types", value=ALL),
                *[rx.select.item(label, value=key) for key, label in EVENT_TYPE_LABELS.items()],
            ),
            value=EventListState.type_filter,
            on_change=EventListState.set_type_filter,
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Status", id="events-status-filter"),
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
        rx.table.cell(
            rx.vstack(
                rx.link(event["name"], href=event["href"], weight="medium", custom_attrs={"data-testid": "event-link"}),
                rx.cond(
                    event["description"] != "",
                    rx.text(event["description"], size="1", color_scheme="gray", truncate=True, max_width="36ch"),
                ),
                spacing="1",
                min_width="0",
            ),
            max_width="320px",
        ),
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


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("Type", display=WIDE_CELL),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Schedule", display=WIDE_CELL),
                    rx.table.column_header_cell("Updated", display=WIDE_CELL),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(EventListState.rows, _row)),
            variant="surface",
            width="100%",
            id="events-table",
        ),
        rx.flex(
            rx.text(EventListState.range_label, size="2", color_scheme="gray", id="events-range"),
            rx.hstack(
                rx.button(
                    rx.icon("chevron-left", size=16), "Previous",
                    variant="soft", color_scheme="gray", disabled=~EventListState.has_prev,
                    on_click=EventListState.prev_page, id="events-prev",
                ),
                rx.button(
                    "Next", rx.icon("chevron-right", size=16),
                    variant="soft", color_scheme="gray", disabled=~EventListState.has_next,
                    on_click=EventListState.next_page, id="events-next",
                ),
                spacing="2",
            ),
            justify="between",
            align="center",
            width="100%",
            spacing="2",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


def _body() -> rx.Component:
    return rx.cond(
        EventListState.total > 0,
        _table(),
        rx.cond(
            EventListState.filtered,
            empty_state(
                "search-x",
                "No events match",
                "Try other words, or clear the filters.",
                rx.button("Clear filters", variant="soft", on_click=EventListState.clear_filters),
                id="events-empty",
            ),
            empty_state(
                "square-terminal",
                "No events yet — create one",
                "An event is a Bash, Python or Node.js script, or an HTTP request, "
                "that runs in a locked-down container.",
                rx.link(rx.button(rx.icon("plus", size=16), "Create an event"), href=routes.EVENT_NEW),
                id="events-empty",
            ),
        ),
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Events",
            rx.link(rx.button(rx.icon("plus", size=16), "New event", id="new-event"), href=routes.EVENT_NEW),
        ),
        _filters(),
        rx.cond(EventListState.error != "", error_callout(EventListState.error, on_retry=EventListState.load)),
        rx.cond(
            EventListState.loaded,
            _body(),
            rx.cond(EventListState.error == "", loading_block("Loading events…")),
        ),
    )
