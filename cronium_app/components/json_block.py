"""JSON as the pages show it: the indented text (`fmt_json` writes it) in a
box that scrolls past `max_height`."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.styles import MONO


def json_block(value, *, max_height: str, dense: bool = False, **props) -> rx.Component:
    """`value`, JSON text, in its box; `dense`: a slimmer box for a table cell."""
    return rx.el.pre(
        value,
        font_family=MONO,
        font_size="12px",
        white_space="pre-wrap",
        word_break="break-word",
        max_height=max_height,
        overflow="auto",
        padding="6px 8px" if dense else "8px 10px",
        margin="0",
        width="100%",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 4 if dense else 5)}",
        border_radius="var(--radius-2)",
        **props,
    )


def json_field(label: str, value, element_id: str, *, max_height: str) -> rx.Component:
    """A labelled JSON value (an input, an output), or "none" without one."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.cond(
            value != "",
            json_block(value, max_height=max_height, id=element_id),
            rx.text("none", size="2", color_scheme="gray", id=element_id),
        ),
        spacing="1",
        width="100%",
    )
