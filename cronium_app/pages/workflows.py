"""/workflows: the list of the user's workflows."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.feedback import empty_state
from cronium_app.components.list_page import list_page, name_cell, paged_table, search_box
from cronium_app.components.roles import create_link, runners_only
from cronium_app.components.status import event_status_badge
from cronium_app.components.styles import WIDE_CELL
from cronium_app.state.workflows import WorkflowListState as S

COLUMNS = [("Name", False), ("Status", False), ("Schedule", True), ("Updated", True), ("", False)]


def run_button(workflow_id) -> rx.Component:
    busy = S.starting_for == workflow_id
    return runners_only(rx.button(
        rx.cond(busy, rx.spinner(size="1"), rx.icon("play", size=14)),
        rx.cond(busy, "Starting…", "Run"),
        on_click=S.run(workflow_id),
        disabled=S.starting_for != 0,
        size="1",
        white_space="nowrap",
        custom_attrs={"data-testid": "run-workflow"},
    ))


def _search() -> rx.Component:
    return rx.flex(
        search_box(S, "workflows", "Search by name"),
        rx.cond(S.q != "", rx.button("Clear", variant="ghost", color_scheme="gray", on_click=S.clear_search)),
        rx.cond(S.loading, rx.spinner(size="2")),
        spacing="2",
        align="center",
        width="100%",
        margin_bottom="16px",
    )


def _row(workflow) -> rx.Component:
    return rx.table.row(
        name_cell(workflow["name"], workflow["href"], workflow["description"], "workflow-link"),
        rx.table.cell(event_status_badge(workflow["status"])),
        rx.table.cell(rx.text(workflow["schedule"], size="2", white_space="nowrap"), display=WIDE_CELL),
        rx.table.cell(
            rx.text(workflow["updated"], size="2", color_scheme="gray", white_space="nowrap"), display=WIDE_CELL
        ),
        rx.table.cell(run_button(workflow["id"]), text_align="right"),
        align="center",
        custom_attrs={"data-testid": "workflow-row", "data-workflow-id": workflow["id"]},
    )


def page() -> rx.Component:
    return list_page(
        S,
        "Workflows",
        create_link("New workflow", routes.WORKFLOW_NEW, "new-workflow"),
        _search(),
        paged_table(S, "workflows", COLUMNS, _row),
        filtered=S.q != "",
        no_match=empty_state(
            "search-x",
            "No workflows match",
            "Try other words, or clear the search.",
            rx.button("Clear search", variant="soft", on_click=S.clear_search),
            id="workflows-empty",
        ),
        empty=empty_state(
            "workflow",
            "No workflows yet — create one",
            "A workflow runs your events as steps, one after another or side by side, "
            "each step starting when the steps before it succeed, fail or finish.",
            create_link("Create a workflow", routes.WORKFLOW_NEW),
            id="workflows-empty",
        ),
        loading_label="Loading workflows…",
    )
