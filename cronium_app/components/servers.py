"""Pieces of the /servers page: the last-check summary, the host key
fingerprint and the credential placeholders."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.styles import MONO


def check_summary(row, testing, prefix: str = "server") -> rx.Component:
    """The last connection test (of a server, or a tool's test message):
    "Testing…" while one runs, else ok / failed / never, its message and when."""
    return rx.cond(
        testing.contains(row["id"]),
        rx.hstack(
            rx.spinner(size="1"),
            rx.text("Testing…", size="2", color_scheme="gray"),
            align="center",
            spacing="2",
            custom_attrs={"data-testid": f"{prefix}-check", "data-check": "testing"},
        ),
        rx.vstack(
            rx.hstack(
                rx.match(
                    row["check"],
                    ("ok", rx.badge(rx.icon("circle-check", size=12), "OK", color_scheme="green", size="1")),
                    ("failed", rx.badge(rx.icon("circle-x", size=12), "Failed", color_scheme="red", size="1")),
                    rx.badge("Not tested yet", color_scheme="gray", variant="surface", size="1"),
                ),
                rx.cond(
                    row["checked"] != "",
                    rx.text(row["checked"], size="1", color_scheme="gray", title=row["checked_full"],
                            white_space="nowrap"),
                ),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.cond(
                row["check_message"] != "",
                rx.text(
                    row["check_message"], size="1", color_scheme=rx.cond(row["check"] == "failed", "red", "gray"),
                    overflow_wrap="anywhere", custom_attrs={"data-testid": f"{prefix}-check-message"},
                ),
            ),
            spacing="1",
            align="start",
            custom_attrs={"data-testid": f"{prefix}-check", "data-check": row["check"]},
        ),
    )


def fingerprint_text(row, **props) -> rx.Component:
    return rx.cond(
        row["fingerprint"] != "",
        rx.text(
            row["fingerprint"], size="1", font_family=MONO, word_break="break-all", title=row["host_key"],
            custom_attrs={"data-testid": "server-fingerprint"}, **props,
        ),
        rx.text(
            "not pinned yet", size="1", color_scheme="gray", font_style="italic",
            custom_attrs={"data-testid": "server-fingerprint"}, **props,
        ),
    )


def keep_or(keeps, kept: str, fresh: str):
    """A credential field's placeholder: on edit, empty keeps the stored value."""
    return rx.cond(keeps, kept, fresh)
