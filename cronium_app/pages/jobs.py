"""/jobs: every job of the user, live."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.feedback import empty_state, error_callout, loading_block
from cronium_app.components.forms import choice, labelled
from cronium_app.components.jobs_list import jobs_table
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.shortcuts import NEXT_PAGE, PREV_PAGE, SEARCH, marker
from cronium_app.state.jobs import ALL, ORDERS, STATUS_FILTERS
from cronium_app.state.jobs import JobListState as S


def filters() -> rx.Component:
    event_select = rx.select.root(
        rx.select.trigger(id="jobs-event-filter", width="100%"),
        rx.select.content(
            rx.select.item("All events", value=ALL),
            rx.foreach(S.event_options, lambda opt: rx.select.item(opt["label"], value=opt["value"])),
        ),
        value=S.event_filter,
        on_change=S.set_event_filter,
    )
    return rx.vstack(
        rx.grid(
            labelled(
                "Search",
                rx.input(
                    rx.input.slot(rx.icon("search", size=16)),
                    placeholder="Search jobs",
                    value=S.q,
                    on_change=S.set_q,
                    debounce_timeout=300,
                    id="jobs-search",
                    custom_attrs=marker(SEARCH),
                    width="100%",
                ),
            ),
            labelled(
                "Status",
                choice(
                    S.status_filter, S.set_status_filter,
                    [(key, label) for key, (label, _) in STATUS_FILTERS.items()], "jobs-status-filter",
                ),
            ),
            labelled("Event", event_select),
            labelled(
                "Created from",
                rx.input(type="date", value=S.date_from, on_change=S.set_date_from, id="jobs-from", width="100%"),
            ),
            labelled(
                "Created to",
                rx.input(type="date", value=S.date_to, on_change=S.set_date_to, id="jobs-to", width="100%"),
            ),
            labelled("Order", choice(S.order, S.set_order, list(ORDERS.items()), "jobs-order")),
            columns=rx.breakpoints(initial="2", md="3", lg="6"),
            spacing="3",
            width="100%",
        ),
        rx.cond(S.filter_error != "", rx.text(S.filter_error, color_scheme="red", size="2", id="jobs-filter-error")),
        spacing="2",
        width="100%",
        margin_bottom="16px",
    )


def pager() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.text(S.total_label, size="2", color_scheme="gray", id="jobs-total"),
            rx.cond(S.loading, rx.spinner(size="1")),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.button(
                rx.icon("chevrons-left", size=16), variant="soft", color_scheme="gray",
                disabled=~S.has_prev, on_click=S.first_page, id="jobs-first", aria_label="First page",
            ),
            rx.button(
                rx.icon("chevron-left", size=16), "Previous", variant="soft", color_scheme="gray",
                disabled=~S.has_prev, on_click=S.prev_page, id="jobs-prev", custom_attrs=marker(PREV_PAGE),
            ),
            rx.button(
                "Next", rx.icon("chevron-right", size=16), variant="soft", color_scheme="gray",
                disabled=~S.has_next, on_click=S.next_page, id="jobs-next", custom_attrs=marker(NEXT_PAGE),
            ),
            spacing="2",
        ),
        justify="between",
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def body() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        rx.vstack(jobs_table(S.rows), pager(), spacing="3", width="100%"),
        rx.cond(
            S.filtered | S.has_prev,
            empty_state(
                "search-x",
                "No jobs match",
                "Try another status, event or date range.",
                rx.button("Clear filters", variant="soft", on_click=S.clear_filters),
                id="jobs-empty",
            ),
            empty_state(
                "inbox",
                "No jobs yet",
                "Every run of an event is a job. Execute an event to see its job here, live.",
                rx.link(rx.button("Go to events", variant="soft"), href=routes.EVENTS),
                id="jobs-empty",
            ),
        ),
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Jobs",
            rx.cond(
                S.filtered,
                rx.button("Clear filters", variant="ghost", color_scheme="gray", on_click=S.clear_filters),
            ),
            subtitle="Statuses update live.",
        ),
        filters(),
        rx.cond(S.error != "", error_callout(S.error, on_retry=S.load, margin_bottom="12px")),
        rx.cond(S.loaded, body(), rx.cond(S.error == "", loading_block("Loading jobs…"))),
    )
