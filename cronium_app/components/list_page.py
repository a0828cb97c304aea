"""What the events and workflows lists share: the search box, the name cell
with its one-line description, the table with its pager, and the page around
them (loading, error, empty).

`S` is a list state with rows, total, loaded, error, range_label, has_prev,
has_next, load, prev_page and next_page; `prefix` ("events") starts the
element ids (events-table, events-prev, ...)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from cronium_app.components.feedback import error_callout, loading_block
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.shortcuts import NEXT_PAGE, PREV_PAGE, SEARCH, marker
from cronium_app.components.styles import WIDE_CELL


def search_box(S, prefix: str, placeholder: str) -> rx.Component:
    return rx.input(
        rx.input.slot(rx.icon("search", size=16)),
        placeholder=placeholder,
        value=S.q,
        on_change=S.set_q,
        debounce_timeout=300,
        id=f"{prefix}-search",
        custom_attrs=marker(SEARCH),
        width="100%",
        max_width=rx.breakpoints(initial="100%", sm="320px"),
    )


def name_cell(name, href, description, link_testid: str) -> rx.Component:
    """The name as a link, and the description on one line cut with an
    ellipsis (the full text in its tooltip)."""
    return rx.table.cell(
        rx.vstack(
            rx.link(name, href=href, weight="medium", custom_attrs={"data-testid": link_testid}),
            rx.cond(
                description != "",
                rx.text(
                    description,
                    size="1",
                    color_scheme="gray",
                    title=description,
                    display="block",
                    width="100%",
                    max_width=rx.breakpoints(initial="16ch", sm="44ch"),
                    overflow="hidden",
                    text_overflow="ellipsis",
                    white_space="nowrap",
                    custom_attrs={"data-testid": "row-description"},
                ),
            ),
            spacing="1",
            min_width="0",
            width="100%",
        ),
        max_width="320px",
    )


def _header(label: str, wide_only: bool) -> rx.Component:
    return rx.table.column_header_cell(label, display=WIDE_CELL) if wide_only else rx.table.column_header_cell(label)


def paged_table(S, prefix: str, columns: list[tuple[str, bool]], row: Callable, **table_props) -> rx.Component:
    """`columns`: (header, shown only on wide screens), the last one the
    actions column (no header); `table_props` go to the table."""
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[_header(label, wide) for label, wide in columns])),
            rx.table.body(rx.foreach(S.rows, row)),
            variant="surface",
            width="100%",
            id=f"{prefix}-table",
            **table_props,
        ),
        rx.flex(
            rx.text(S.range_label, size="2", color_scheme="gray", id=f"{prefix}-range"),
            rx.hstack(
                rx.button(
                    rx.icon("chevron-left", size=16), "Previous",
                    variant="soft", color_scheme="gray", disabled=~S.has_prev,
                    on_click=S.prev_page, id=f"{prefix}-prev", custom_attrs=marker(PREV_PAGE),
                ),
                rx.button(
                    "Next", rx.icon("chevron-right", size=16),
                    variant="soft", color_scheme="gray", disabled=~S.has_next,
                    on_click=S.next_page, id=f"{prefix}-next", custom_attrs=marker(NEXT_PAGE),
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


def list_page(
    S, title: str, new_button: rx.Component, filters: rx.Component, table: rx.Component, *,
    filtered, no_match: rx.Component, empty: rx.Component, loading_label: str,
) -> rx.Component:
    return app_shell(
        page_header(title, new_button),
        filters,
        rx.cond(S.error != "", error_callout(S.error, on_retry=S.load)),
        rx.cond(
            S.loaded,
            rx.cond(S.total > 0, table, rx.cond(filtered, no_match, empty)),
            rx.cond(S.error == "", loading_block(loading_label)),
        ),
    )
