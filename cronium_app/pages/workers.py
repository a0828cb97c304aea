"""/workers: every worker the app has heard from, for its administrators:
id and host, status, Docker Engine, jobs running of how many it takes, its
container pool, and its last heartbeat; refreshed live."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.feedback import empty_state, error_callout, forbidden_notice, loading_block
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.display.workers import NONE
from cronium_app.state.workers import WorkersState as S

PHONE_ONLY = rx.breakpoints(initial="flex", md="none")
STATUS_COLORS = (("online", "green"), ("draining", "amber"), ("stopped", "gray"), ("gone", "red"))
COLUMNS = [("Worker", False), ("Status", False), ("Jobs", False), ("Docker Engine", True), ("Pool", True),
           ("Last heartbeat", True)]


def status_badge(status) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, *STATUS_COLORS, "gray"),
        variant="soft",
        radius="full",
        white_space="nowrap",
        custom_attrs={"data-testid": "worker-status", "data-status": status},
    )


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray", **props)


def _worker_cell(row) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            rx.text(row["id"], weight="medium", font_family=MONO, size="2", overflow_wrap="anywhere",
                    custom_attrs={"data-testid": "worker-id"}),
            _muted(row["host"], overflow_wrap="anywhere", custom_attrs={"data-testid": "worker-host"}),
            # On phones the wide-only columns are hidden: their content goes here.
            rx.vstack(
                rx.cond(row["engine"] != NONE, _muted(row["engine"])),
                rx.cond(row["pool"] != NONE, _muted("Pool: " + row["pool"])),
                _muted("Seen " + row["last_seen"], title=row["last_seen_full"]),
                spacing="1",
                display=PHONE_ONLY,
            ),
            spacing="1",
            align="start",
            min_width="0",
        ),
        vertical_align="top",
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        _worker_cell(row),
        rx.table.cell(status_badge(row["status"]), vertical_align="top"),
        rx.table.cell(rx.text(row["jobs"], size="2", white_space="nowrap", custom_attrs={"data-testid": "worker-jobs"}),
                      vertical_align="top"),
        rx.table.cell(rx.text(row["engine"], size="2", custom_attrs={"data-testid": "worker-engine"}),
                      display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(rx.text(row["pool"], size="2", custom_attrs={"data-testid": "worker-pool"}),
                      display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(
            rx.text(row["last_seen"], size="2", white_space="nowrap", title=row["last_seen_full"],
                    custom_attrs={"data-testid": "worker-last-seen"}),
            display=WIDE_CELL, vertical_align="top",
        ),
        custom_attrs={"data-testid": "worker-row", "data-worker-id": row["id"]},
    )


def _header(label: str, wide_only: bool) -> rx.Component:
    return rx.table.column_header_cell(label, display=WIDE_CELL) if wide_only else rx.table.column_header_cell(label)


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[_header(label, wide) for label, wide in COLUMNS])),
        rx.table.body(rx.foreach(S.rows, _row)),
        variant="surface",
        width="100%",
        id="workers-table",
    )


def _empty() -> rx.Component:
    return empty_state(
        "server-cog",
        "No worker has checked in yet",
        "Workers run the jobs. Start one beside the app with `python -m orchestrator_worker`, "
        "or as a service with `make up`; it shows here after its first heartbeat.",
        id="workers-empty",
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Workers",
            subtitle=rx.cond(
                S.forbidden,
                "",
                "Live, from their heartbeats. A worker not heard from for " + S.gone_after.to_string()
                + " s is shown as gone.",
            ),
        ),
        rx.cond(
            S.forbidden,
            forbidden_notice("Only administrators see the workers.", "workers-forbidden"),
            rx.fragment(
                rx.cond(S.error != "", error_callout(S.error, on_retry=S.load)),
                rx.cond(
                    S.loaded,
                    rx.cond(S.rows.length() > 0, _table(), _empty()),
                    rx.cond(S.error == "", loading_block("Loading workers…")),
                ),
            ),
        ),
    )
