"""/servers/{id}/terminal: an interactive shell on the server, in the browser."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.detail_page import back_link, detail_header, detail_page
from cronium_app.components.terminal import terminal
from cronium_app.state.terminal import TerminalState as S

STATUS_BADGES = (
    ("open", rx.badge(rx.icon("circle-check", size=12), "Connected", color_scheme="green", size="2")),
    ("closed", rx.badge(rx.icon("circle-x", size=12), "Closed", color_scheme="gray", size="2")),
)


def _status_badge() -> rx.Component:
    return rx.box(
        rx.match(
            S.status,
            *STATUS_BADGES,
            rx.badge(rx.spinner(size="1"), "Connecting…", color_scheme="blue", size="2"),
        ),
        id="terminal-status",
        custom_attrs={"data-status": S.status},
    )


def _actions() -> rx.Component:
    return rx.cond(
        S.status == "closed",
        rx.button(rx.icon("refresh-cw", size=16), "Connect again", on_click=S.reconnect, id="terminal-reconnect"),
        rx.button(
            rx.icon("x", size=16), "Close", variant="soft", color_scheme="gray", on_click=S.disconnect,
            id="terminal-close",
        ),
    )


def _closed_notice() -> rx.Component:
    """Why the terminal closed, announced to screen readers as it happens."""
    return rx.box(
        rx.cond(
            S.status == "closed",
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text(rx.text.strong("Closed: "), S.closed_reason),
                color_scheme="gray",
                variant="surface",
                size="1",
                width="100%",
            ),
        ),
        role="status",
        aria_live="polite",
        id="terminal-closed",
        width="100%",
    )


def _terminal_box() -> rx.Component:
    return rx.box(
        terminal(
            path=S.socket_path,
            active=S.active,
            label=f"Terminal on {S.server_name}",
            on_status=S.set_status,
            key=S.terminal_key,
            width="100%",
            height="100%",
        ),
        id="terminal",
        # The page's height less its header: the terminal fits what is left.
        height=rx.breakpoints(initial="calc(100vh - 300px)", md="calc(100vh - 260px)"),
        min_height="260px",
        width="100%",
        padding="8px",
        background_color="#111113",
        border_radius="var(--radius-3)",
        overflow="hidden",
    )


def _hint() -> rx.Component:
    return rx.text(
        "Copy: select text, then Ctrl+Shift+C. Paste: Ctrl+Shift+V, or the browser's menu. "
        "The terminal closes after ", S.idle_text, " without typing.",
        size="1",
        color_scheme="gray",
        id="terminal-hint",
    )


def page() -> rx.Component:
    header = detail_header(
        back_link("Servers", routes.SERVERS),
        rx.heading(S.server_name, size="6", id="page-title", word_break="break-all"),
        _status_badge(),
        id_text=S.address,
        id_element="terminal-address",
        actions=_actions(),
    )
    return detail_page(
        S,
        missing=(
            "No such server",
            "There is no server here that you may open a terminal on.",
            "Back to servers",
            routes.SERVERS,
            "terminal-not-found",
        ),
        loading_label="Loading the server…",
        content=[header, rx.vstack(_closed_notice(), _terminal_box(), _hint(), spacing="2", width="100%")],
    )
