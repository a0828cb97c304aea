"""Loading, error and empty states, the same on every page."""

from __future__ import annotations

import reflex as rx


def loading_block(label: str = "Loading…", **props) -> rx.Component:
    return rx.center(
        rx.hstack(rx.spinner(size="3"), rx.text(label, color_scheme="gray"), align="center", spacing="3"),
        padding_y="48px",
        width="100%",
        **props,
    )


def error_callout(message, on_retry=None, **props) -> rx.Component:
    children = [rx.text(message)]
    if on_retry is not None:
        children.append(rx.button("Try again", size="1", variant="soft", color_scheme="red", on_click=on_retry))
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.flex(*children, spacing="3", align="center", wrap="wrap"),
        color_scheme="red",
        role="alert",
        width="100%",
        **props,
    )


def empty_state(icon: str, title, text, action: rx.Component | None = None, **props) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28),
                width="56px",
                height="56px",
                border_radius="50%",
                background=rx.color("accent", 3),
                color=rx.color("accent", 11),
            ),
            rx.heading(title, size="4", text_align="center", as_="h2"),
            rx.text(text, color_scheme="gray", text_align="center", max_width="28em"),
            action if action is not None else rx.fragment(),
            align="center",
            spacing="3",
        ),
        padding_y="48px",
        padding_x="16px",
        width="100%",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="var(--radius-4)",
        **props,
    )


def not_found(title: str, text: str, back_label: str, back_href: str, **props) -> rx.Component:
    return empty_state(
        "search-x",
        title,
        text,
        rx.link(rx.button(back_label, variant="soft"), href=back_href),
        **props,
    )


def forbidden_notice(text: str, element_id: str) -> rx.Component:
    """What a page for administrators shows anyone else."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("lock")),
        rx.callout.text(text),
        color_scheme="gray",
        width="100%",
        id=element_id,
    )
