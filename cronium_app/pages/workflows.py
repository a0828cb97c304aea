"""/workflows: the list of the user's workflows."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.feedback import empty_state, error_callout, loading_block
from cronium_app.components.jobs_list import WIDE_CELL
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.status import event_status_badge
from cronium_app.pages import routes
from cronium_app.state.workflows import WorkflowListState as S


def run_button(workflow_id) -> rx.Component:
    busy = S.starting_for == workflow_id
    return rx.button(
        rx.cond(busy, rx.spinner(size="1"), rx.icon("play", size=14)),
        rx.cond(busy, "Starting…", "Run"),
        on_click=S.run(workflow_id),
        disabled=S.starting_for != 0,
        size="1",
        white_space="nowrap",
        custom_attrs={"data-testid": "run-workflow"},
    )


def _search() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search by name",
            value=S.q,
            on_change=S.set_q,
            debounce_timeout=300,
            id="workflows-search",
            width="100%",
            max_width=rx.breakpoints(initial="100%", sm="320px"),
        ),
        rx.cond(S.q != "", rx.button("Clear", variant="ghost", color_scheme="gray", on_click=S.clear_search)),
        rx.cond(S.loading, rx.spinner(size="2")),
        spacing="2",
        align="center",
        width="100%",
        margin_bottom="16px",
    )


def _row(workflow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(
                    workflow["name"], href=workflow["href"], weight="medium",
                    custom_attrs={"data-testid": "workflow-link"},
                ),
                rx.cond(
                    workflow["description"] != "",
                    rx.text(workflow["description"], size="1", color_scheme="gray", truncate=True, max_width="36ch"),
                ),
                spacing="1",
                min_width="0",
            ),
            max_width="320px",
        ),
        rx.table.cell(event_status_badge(workflow["status"])),
        rx.table.cell(rx.text(workflow["schedule"], size="2", white_space="nowrap"), display=WIDE_CELL),
        rx.table.cell(
            rx.text(workflow["updated"], size="2", color_scheme="gray", white_space="nowrap"), display=WIDE_CELL
        ),
        rx.table.cell(run_button(workflow["id"]), text_align="right"),
        align="center",
        custom_attrs={"data-testid": "workflow-row", "data-workflow-id": workflow["id"]},
    )


def _table() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell("Schedule", display=WIDE_CELL),
                    rx.table.column_header_cell("Updated", display=WIDE_CELL),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(S.rows, _row)),
            variant="surface",
            width="100%",
            id="workflows-table",
        ),
        rx.flex(
            rx.text(S.range_label, size="2", color_scheme="gray", id="workflows-range"),
            rx.hstack(
                rx.button(
                    rx.icon("chevron-left", size=16), "Previous",
                    variant="soft", color_scheme="gray", disabled=~S.has_prev,
                    on_click=S.prev_page, id="workflows-prev",
                ),
                rx.button(
                    "Next", rx.icon("chevron-right", size=16),
                    variant="soft", color_scheme="gray", disabled=~S.has_next,
                    on_click=S.next_page, id="workflows-next",
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
        S.total > 0,
        _table(),
        rx.cond(
            S.q != "",
            empty_state(
                "search-x",
                "No workflows match",
                "Try other words, or clear the search.",
                rx.button("Clear search", variant="soft", on_click=S.clear_search),
                id="workflows-empty",
            ),
            empty_state(
                "workflow",
                "No workflows yet — create one",
                "A workflow runs your events as steps, one after another or side by side, "
                "each step starting when the steps before it succeed, fail or finish.",
                rx.link(rx.button(rx.icon("plus", size=16), "Create a workflow"), href=routes.WORKFLOW_NEW),
                id="workflows-empty",
            ),
        ),
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Workflows",
            rx.link(rx.button(rx.icon("plus", size=16), "New workflow", id="new-workflow"), href=routes.WORKFLOW_NEW),
        ),
        _search(),
        rx.cond(S.error != "", error_callout(S.error, on_retry=S.load)),
        rx.cond(
            S.loaded,
            _body(),
            rx.cond(S.error == "", loading_block("Loading workflows…")),
        ),
    )
