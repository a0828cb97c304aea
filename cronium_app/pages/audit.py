"""/audit: who changed or did what, when, from where; newest first, with
filters, pages and a JSONL download. Each entry shows the fields it
changed, before and after (secret values are never in the log)."""

from __future__ import annotations

import reflex as rx

from cronium_app.audit.recorder import TARGET_KINDS
from cronium_app.components.feedback import empty_state, error_callout, loading_block
from cronium_app.components.forms import choice, labelled
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.audit import ACTION_FAMILIES, ALL
from cronium_app.state.audit import AuditState as S

PHONE_ONLY = rx.breakpoints(initial="flex", md="none")


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray", **props)


def filters() -> rx.Component:
    return rx.vstack(
        rx.grid(
            rx.cond(
                S.sees_all,
                labelled("Who", rx.input(
                    placeholder="Email or user id", value=S.actor, on_change=S.set_actor, debounce_timeout=400,
                    id="audit-actor", width="100%",
                )),
            ),
            labelled("Action", choice(
                S.action_family, S.set_action_family,
                [(ALL, "All actions"), *[(family, family.rstrip(".").replace("_", " ")) for family in ACTION_FAMILIES]],
                "audit-action",
            )),
            labelled("On", choice(
                S.target_kind, S.set_target_kind,
                [(ALL, "Anything"), *[(kind, kind.replace("_", " ")) for kind in TARGET_KINDS]], "audit-target",
            )),
            labelled("From", rx.input(type="date", value=S.date_from, on_change=S.set_date_from,
                                          id="audit-from", width="100%")),
            labelled("To", rx.input(type="date", value=S.date_to, on_change=S.set_date_to,
                                        id="audit-to", width="100%")),
            columns=rx.breakpoints(initial="2", md="3", lg="5"),
            spacing="3",
            width="100%",
        ),
        rx.cond(S.filter_error != "", rx.text(S.filter_error, color_scheme="red", size="2", id="audit-filter-error")),
        spacing="2",
        width="100%",
        margin_bottom="16px",
    )


def _change(line) -> rx.Component:
    """One changed field: its name, then before → after (a created object
    shows only after, a deleted one only before)."""
    return rx.flex(
        rx.text(line["field"], weight="medium", size="1", font_family=MONO),
        rx.cond(line["before"] != "", rx.text(line["before"], size="1", font_family=MONO, color_scheme="red",
                                               overflow_wrap="anywhere")),
        rx.cond((line["before"] != "") & (line["after"] != ""), rx.icon("arrow-right", size=12)),
        rx.cond(line["after"] != "", rx.text(line["after"], size="1", font_family=MONO, color_scheme="green",
                                              overflow_wrap="anywhere")),
        spacing="2",
        align="center",
        wrap="wrap",
        custom_attrs={"data-testid": "audit-change"},
    )


def _changes(row) -> rx.Component:
    return rx.cond(
        row["changes"].length() > 0,
        rx.vstack(rx.foreach(row["changes"], _change), spacing="1", min_width="0"),
        _muted("—"),
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(row["at"], size="2", white_space="nowrap", title=row["at_full"]),
                rx.code(row["action"], size="1", variant="soft", custom_attrs={"data-testid": "audit-action"}),
                # On phones the wide-only columns are hidden: their content goes here.
                rx.vstack(
                    rx.text(row["actor"], size="2", overflow_wrap="anywhere"),
                    _muted(row["target"]),
                    _muted(row["source"] + " · " + row["client_ip"]),
                    _changes(row),
                    spacing="1",
                    display=PHONE_ONLY,
                    min_width="0",
                ),
                spacing="1",
                align="start",
                min_width="0",
            ),
            vertical_align="top",
        ),
        rx.table.cell(
            rx.vstack(rx.text(row["actor"], size="2", overflow_wrap="anywhere",
                              custom_attrs={"data-testid": "audit-actor"}),
                      _muted(row["actor_kind"]), spacing="1"),
            display=WIDE_CELL, vertical_align="top",
        ),
        rx.table.cell(rx.text(row["target"], size="2", overflow_wrap="anywhere"), display=WIDE_CELL,
                      vertical_align="top"),
        rx.table.cell(
            rx.vstack(rx.text(row["source"], size="2"), _muted(row["client_ip"], font_family=MONO), spacing="1"),
            display=WIDE_CELL, vertical_align="top",
        ),
        rx.table.cell(_changes(row), display=WIDE_CELL, vertical_align="top", max_width="420px"),
        custom_attrs={"data-testid": "audit-row", "data-entry-id": row["id"]},
    )


def _table() -> rx.Component:
    headers = [("When · action", False), ("Who", True), ("On", True), ("From", True), ("Changes", True)]
    return rx.table.root(
        rx.table.header(rx.table.row(*[
            rx.table.column_header_cell(label, display=WIDE_CELL) if wide else rx.table.column_header_cell(label)
            for label, wide in headers
        ])),
        rx.table.body(rx.foreach(S.rows, _row)),
        variant="surface",
        width="100%",
        id="audit-table",
    )


def pager() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.text("Page " + S.page_number.to_string(), size="2", color_scheme="gray", id="audit-page"),
            rx.cond(S.loading, rx.spinner(size="1")),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), "Newer", variant="soft", color_scheme="gray",
                      disabled=~S.has_prev, on_click=S.prev_page, id="audit-prev"),
            rx.button("Older", rx.icon("chevron-right", size=16), variant="soft", color_scheme="gray",
                      disabled=~S.has_next, on_click=S.next_page, id="audit-next"),
            spacing="2",
        ),
        justify="between",
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _body() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        rx.vstack(_table(), pager(), spacing="3", width="100%"),
        empty_state(
            "scroll-text",
            "No entries match",
            "Every change and action is written here: sign-ins, tokens, events, runs and more. "
            "Try other filters.",
            rx.button("Clear filters", variant="soft", on_click=S.clear_filters),
            id="audit-empty",
        ),
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Audit log",
            rx.button(rx.icon("download", size=16), "Download JSONL", variant="soft", on_click=S.download,
                      id="audit-download"),
            subtitle=rx.cond(S.sees_all, "Every change and action on this server: who, when, from where.",
                             "Your changes and actions: when, from where."),
        ),
        filters(),
        rx.cond(S.error != "", error_callout(S.error, on_retry=S.load)),
        rx.cond(S.loaded, _body(), rx.cond(S.error == "", loading_block("Loading the audit log…"))),
    )
