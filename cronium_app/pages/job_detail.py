"""/jobs/{id}: status, metadata and the live log of one job."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.detail_page import back_link, detail_header, detail_item, detail_page
from cronium_app.components.feedback import error_callout
from cronium_app.components.json_block import json_field
from cronium_app.components.log_viewer import log_lines
from cronium_app.components.status import job_status_badge
from cronium_app.components.styles import MONO
from cronium_app.state.job_detail import MAX_SHOWN
from cronium_app.state.job_detail import JobDetailState as S


def header() -> rx.Component:
    return detail_header(
        rx.hstack(back_link("Jobs", routes.JOBS), spacing="2"),
        rx.heading(
            S.job["event_name"],
            size=rx.breakpoints(initial="6", md="7"),
            word_break="break-word",
            id="page-title",
        ),
        job_status_badge(S.job["status"], size="2", id="job-status"),
        id_text=S.job["id"],
        id_element="job-id",
        actions=rx.flex(
            rx.cond(
                ~S.terminal,
                rx.button(
                    rx.icon("circle-stop", size=16),
                    rx.cond(S.job["cancel_requested"], "Cancelling…", "Cancel"),
                    color_scheme="red",
                    variant="soft",
                    on_click=S.cancel,
                    loading=S.cancelling,
                    disabled=~S.can_cancel,
                    id="cancel-job",
                ),
                rx.button(
                    rx.icon("rotate-ccw", size=16),
                    "Re-run",
                    on_click=S.rerun,
                    loading=S.rerunning,
                    disabled=S.source_event_id == 0,
                    title=rx.cond(S.source_event_id == 0, "The event was deleted.", "Run the same event again."),
                    id="rerun-job",
                ),
            ),
            rx.button(
                rx.icon("download", size=16),
                "Download log",
                variant="soft",
                color_scheme="gray",
                on_click=S.download,
                loading=S.downloading,
                id="download-log",
            ),
            spacing="2",
            wrap="wrap",
        ),
    )


def status_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Status", size="3", as_="h2"),
            rx.data_list.root(
                detail_item("Status", S.job["status"], "job-status-text"),
                detail_item("Created", S.job["created"], "job-created"),
                detail_item("Acknowledged", S.job["acknowledged"], "job-acknowledged"),
                detail_item("Started", S.job["started"], "job-started"),
                detail_item("Completed", S.job["completed"], "job-completed"),
                detail_item("Duration", S.job["duration"], "job-duration"),
                detail_item("Exit code", S.job["exit_code"], "job-exit-code", mono=True),
                detail_item("Worker", S.job["worker"], "job-worker", mono=True),
                detail_item("Attempt", S.job["attempt"], "job-attempt"),
                size="2",
                orientation="horizontal",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="job-status-card",
    )


def _workflow_item() -> rx.Component:
    """The workflow (and run) a step job belongs to, as links."""
    return rx.data_list.item(
        rx.data_list.label("Workflow", min_width="120px"),
        rx.data_list.value(
            rx.flex(
                rx.cond(
                    S.job["workflow_href"] != "",
                    rx.link(S.job["workflow"], href=S.job["workflow_href"], id="job-workflow"),
                    rx.text(S.job["workflow"], id="job-workflow"),
                ),
                rx.cond(
                    S.job["workflow_run_href"] != "",
                    rx.link("view the run", href=S.job["workflow_run_href"], size="2", id="job-workflow-run"),
                ),
                spacing="2",
                wrap="wrap",
                align="center",
            )
        ),
        align="center",
    )


def metadata_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Details", size="3", as_="h2"),
            rx.data_list.root(
                rx.data_list.item(
                    rx.data_list.label("Event", min_width="120px"),
                    rx.data_list.value(
                        rx.cond(
                            S.job["event_href"] != "",
                            rx.link(S.job["event_name"], href=S.job["event_href"], id="job-event-link"),
                            rx.text(S.job["event_name"], color_scheme="gray"),
                        )
                    ),
                    align="center",
                ),
                detail_item("Type", S.job["type"]),
                rx.cond(S.job["workflow"] != "", _workflow_item()),
                detail_item("Peak memory", S.job["peak_memory"], "job-peak-memory"),
                detail_item("CPU time", S.job["cpu_time"], "job-cpu-time"),
                size="2",
                orientation="horizontal",
                width="100%",
            ),
            rx.cond(
                S.job["error"] != "",
                rx.callout.root(
                    rx.callout.icon(rx.icon("circle-alert")),
                    rx.callout.text(S.job["error"], word_break="break-word"),
                    color_scheme=rx.cond(S.job["status"] == "cancelled", "amber", "red"),
                    size="1",
                    width="100%",
                    id="job-error",
                ),
            ),
            json_field("Input", S.job["input"], "job-input", max_height="200px"),
            json_field("Output", S.job["output"], "job-output", max_height="200px"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="job-metadata-card",
    )


def servers_card() -> rx.Component:
    """A job on remote servers: how it went on each of them."""

    def row(run) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(run["name"], weight="medium")),
            rx.table.cell(job_status_badge(run["status"], size="1")),
            rx.table.cell(rx.text(run["exit_code"], font_family=MONO)),
            rx.table.cell(run["duration"]),
            rx.table.cell(rx.text(run["error"], size="1", color_scheme="gray", word_break="break-word")),
        )

    return rx.card(
        rx.vstack(
            rx.heading("Servers", size="3", as_="h2"),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(title) for title in ("Server", "Status", "Exit code", "Duration", "Error")]
                        )
                    ),
                    rx.table.body(rx.foreach(S.server_runs, row)),
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="job-servers-card",
    )


def actions_card() -> rx.Component:
    """The conditional actions this job's end fired: each one's outcome and
    the job it queued (a message through a tool, or another event)."""

    def row(action) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.text(action["what"], weight="medium", white_space="nowrap")),
            rx.table.cell(
                rx.cond(
                    action["result_job_id"] != "",
                    rx.hstack(
                        rx.link(action["result_name"], href="/jobs/" + action["result_job_id"],
                                custom_attrs={"data-testid": "action-job-link"}),
                        job_status_badge(action["result_status"], size="1"),
                        spacing="2", align="center", wrap="wrap",
                    ),
                    rx.badge(action["outcome"], color_scheme=rx.cond(action["outcome"] == "refused", "red", "gray"),
                             variant="soft", size="1"),
                ),
            ),
            rx.table.cell(rx.text(rx.cond(action["result_error"] != "", action["result_error"], action["message"]),
                                  size="1", color_scheme="gray", word_break="break-word")),
            custom_attrs={"data-testid": "job-action", "data-outcome": action["outcome"],
                          "data-result-status": action["result_status"]},
        )

    return rx.card(
        rx.vstack(
            rx.heading("Conditional actions", size="3", as_="h2"),
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(t) for t in ("Action", "Result", "Details")])),
                    rx.table.body(rx.foreach(S.actions, row)),
                    size="1", width="100%",
                ),
                overflow_x="auto", width="100%",
            ),
            rx.text("Actions never change this job's own status.", size="1", color_scheme="gray"),
            spacing="3", width="100%",
        ),
        width="100%",
        id="job-actions-card",
    )


def origin_note() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("corner-down-right")),
        rx.callout.text("Queued by a conditional action of job ",
                        rx.link(S.origin_job_id, href="/jobs/" + S.origin_job_id, id="job-origin-link"), "."),
        color_scheme="gray", variant="surface", size="1", width="100%", id="job-origin",
    )


def log_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.hstack(
                    rx.heading("Log", size="3", as_="h2"),
                    rx.cond(
                        S.following & ~S.terminal,
                        rx.badge(rx.spinner(size="1"), "live", color_scheme="green", variant="soft", id="log-live"),
                    ),
                    rx.text(S.line_count, " lines", size="1", color_scheme="gray", id="log-count", role="status",
                            aria_live="polite", aria_atomic="true"),
                    align="center",
                    spacing="2",
                ),
                rx.input(
                    rx.input.slot(rx.icon("filter", size=14)),
                    placeholder="Filter lines",
                    value=S.log_filter,
                    on_change=S.set_log_filter,
                    debounce_timeout=250,
                    size="2",
                    id="log-filter",
                    width=rx.breakpoints(initial="100%", sm="260px"),
                ),
                justify="between",
                align=rx.breakpoints(initial="start", sm="center"),
                direction=rx.breakpoints(initial="column", sm="row"),
                spacing="2",
                width="100%",
            ),
            rx.cond(S.poll_error != "", error_callout(S.poll_error)),
            rx.cond(
                S.hidden_count > 0,
                rx.text(
                    f"Showing the last {MAX_SHOWN:,} matching lines; ",
                    S.hidden_count,
                    " earlier lines are hidden. Download the log for every line.",
                    size="1",
                    color_scheme="gray",
                    id="log-hidden",
                ),
            ),
            log_lines(
                S.log_head,
                S.log_tail,
                empty_text=rx.cond(
                    S.log_filter != "",
                    "No line matches the filter.",
                    rx.cond(S.terminal, "This job printed nothing.", "Waiting for output…"),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="log-card",
    )


def page() -> rx.Component:
    return detail_page(
        S,
        missing=("Job not found", "There is no such job, or it belongs to someone else.", "Back to jobs", routes.JOBS,
                 "job-not-found"),
        loading_label="Loading the job…",
        content=[
            header(),
            rx.grid(
                status_card(),
                metadata_card(),
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="4",
                width="100%",
            ),
            rx.cond(S.origin_job_id != "", origin_note()),
            rx.cond(S.server_runs.length() > 0, servers_card()),
            rx.cond(S.actions.length() > 0, actions_card()),
            log_card(),
        ],
    )
