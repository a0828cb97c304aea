"""Lists of jobs: the compact list on the dashboard and the jobs table."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.status import job_status_badge
from cronium_app.components.styles import WIDE_CELL


def job_id_text(job_id, **props) -> rx.Component:
    return rx.code(job_id, variant="ghost", size="1", white_space="nowrap", **props)


def compact_job_row(job) -> rx.Component:
    """One job as a link row: event and id on the left, status and time on the right."""
    return rx.link(
        rx.flex(
            rx.vstack(
                rx.text(job["event_name"], weight="medium", size="2", truncate=True),
                job_id_text(job["id"], color_scheme="gray"),
                spacing="1",
                min_width="0",
                flex="1",
            ),
            rx.vstack(
                job_status_badge(job["status"], size="1"),
                rx.text(job["created"], size="1", color_scheme="gray", white_space="nowrap"),
                spacing="1",
                align="end",
                flex_shrink="0",
            ),
            justify="between",
            align="center",
            spacing="3",
            width="100%",
        ),
        href=job["href"],
        underline="none",
        color="inherit",
        padding="10px 12px",
        border_radius="var(--radius-3)",
        width="100%",
        _hover={"background": rx.color("gray", 3)},
        custom_attrs={"data-testid": "recent-job", "data-job-id": job["id"]},
    )


def jobs_table(rows, *, show_event: bool = True, table_id: str = "jobs-table") -> rx.Component:
    header = [
        rx.table.column_header_cell("Job"),
        rx.table.column_header_cell("Event", display=WIDE_CELL) if show_event else None,
        rx.table.column_header_cell("Status"),
        rx.table.column_header_cell("Created", display=WIDE_CELL),
        rx.table.column_header_cell("Duration", display=WIDE_CELL),
        rx.table.column_header_cell("Worker", display=WIDE_CELL),
    ]

    def row(job) -> rx.Component:
        cells = [
            rx.table.cell(
                rx.link(
                    job_id_text(job["id"]),
                    href=job["href"],
                    display="block",
                    max_width=rx.breakpoints(initial="170px", md="none"),
                    overflow="hidden",
                    text_overflow="ellipsis",
                    custom_attrs={"data-testid": "job-link"},
                ),
                # On phones the event column is hidden: its name goes here.
                rx.text(
                    job["event_name"], size="1", color_scheme="gray", truncate=True,
                    max_width="170px", display=rx.breakpoints(initial="block", md="none"),
                ) if show_event else rx.fragment(),
            ),
            rx.table.cell(
                rx.cond(
                    job["event_href"] != "",
                    rx.link(job["event_name"], href=job["event_href"]),
                    rx.text(job["event_name"], color_scheme="gray"),
                ),
                max_width="240px",
                overflow="hidden",
                text_overflow="ellipsis",
                white_space="nowrap",
                display=WIDE_CELL,
            )
            if show_event
            else None,
            rx.table.cell(job_status_badge(job["status"], size="1")),
            rx.table.cell(
                rx.text(job["created"], title=job["created_full"], white_space="nowrap"), display=WIDE_CELL
            ),
            rx.table.cell(rx.text(job["duration"], white_space="nowrap"), display=WIDE_CELL),
            rx.table.cell(
                rx.text(job["worker"], color_scheme="gray", white_space="nowrap"), display=WIDE_CELL
            ),
        ]
        return rx.table.row(
            *[c for c in cells if c is not None],
            align="center",
            custom_attrs={"data-testid": "job-row", "data-job-id": job["id"], "data-status": job["status"]},
        )

    return rx.table.root(
        rx.table.header(rx.table.row(*[h for h in header if h is not None])),
        rx.table.body(rx.foreach(rows, row)),
        variant="surface",
        size="2",
        width="100%",
        id=table_id,
    )
