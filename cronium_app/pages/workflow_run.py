"""/workflow-runs/{id}: one run of a workflow, its steps' status live."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.detail_page import back_link, detail_header, detail_item, detail_page
from cronium_app.components.feedback import error_callout
from cronium_app.components.json_block import json_field
from cronium_app.components.status import job_status_badge
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.workflow_run import WorkflowRunState as S


def header() -> rx.Component:
    return detail_header(
        back_link(S.run["workflow_name"], S.run["workflow_href"], id="run-workflow-link"),
        rx.heading("Workflow run", size=rx.breakpoints(initial="6", md="7"), id="page-title"),
        job_status_badge(S.run["status"], size="2", id="run-status"),
        rx.cond(
            S.following,
            rx.badge(rx.spinner(size="1"), "live", color_scheme="green", variant="soft", id="run-live"),
        ),
        id_text=S.run["id"],
        id_element="run-id",
        actions=rx.cond(
            S.run["status"] == "running",
            rx.button(
                rx.icon("circle-stop", size=16),
                "Cancel run",
                color_scheme="red",
                variant="soft",
                on_click=S.cancel,
                loading=S.cancelling,
                disabled=~S.can_cancel,
                id="cancel-run",
            ),
        ),
    )


def summary_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.data_list.root(
                detail_item("Started", S.run["created"], "run-created", label_width="110px"),
                detail_item("Finished", S.run["completed"], "run-completed", label_width="110px"),
                detail_item("Duration", S.run["duration"], "run-duration", label_width="110px"),
                size="2",
                orientation="horizontal",
                width="100%",
            ),
            json_field("Input", S.run["input"], "run-input-json", max_height="160px"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="run-summary",
    )


def _step_row(step) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(step["name"], weight="medium", font_family=MONO, size="2"),
                rx.cond(
                    step["event_href"] != "",
                    rx.link(step["event_name"], href=step["event_href"], size="1", color_scheme="gray"),
                    rx.text(step["event_name"], size="1", color_scheme="gray"),
                ),
                spacing="1",
                min_width="0",
            ),
            max_width="260px",
        ),
        rx.table.cell(job_status_badge(step["status"], size="1")),
        rx.table.cell(
            rx.cond(
                step["job_href"] != "",
                rx.link(
                    rx.code(step["job_id"], variant="ghost", size="1"),
                    href=step["job_href"],
                    display="block",
                    max_width=rx.breakpoints(initial="120px", md="none"),
                    overflow="hidden",
                    text_overflow="ellipsis",
                    white_space="nowrap",
                    custom_attrs={"data-testid": "step-job-link"},
                ),
                rx.text("not started", size="1", color_scheme="gray"),
            ),
        ),
        rx.table.cell(rx.text(step["duration"], size="2", white_space="nowrap"), display=WIDE_CELL),
        align="center",
        custom_attrs={"data-testid": "run-step", "data-step": step["name"], "data-status": step["status"]},
    )


def steps_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Steps", size="3", as_="h2"),
            rx.cond(S.poll_error != "", error_callout(S.poll_error)),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Step"),
                        rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell("Job"),
                        rx.table.column_header_cell("Duration", display=WIDE_CELL),
                    )
                ),
                rx.table.body(rx.foreach(S.steps, _step_row)),
                variant="ghost",
                size="2",
                width="100%",
                id="run-steps",
            ),
            rx.text(
                "Waiting steps start when their parents finish; skipped steps had no edge into them that held.",
                size="1",
                color_scheme="gray",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="run-steps-card",
    )


def page() -> rx.Component:
    return detail_page(
        S,
        missing=("Run not found", "There is no such workflow run, or it belongs to someone else.", "Back to workflows",
                 routes.WORKFLOWS, "run-not-found"),
        loading_label="Loading the run…",
        content=[
            header(),
            rx.grid(
                rx.box(steps_card(), grid_column=rx.breakpoints(initial="auto", lg="span 2")),
                summary_card(),
                columns=rx.breakpoints(initial="1", lg="3"),
                spacing="4",
                width="100%",
            ),
        ],
    )
