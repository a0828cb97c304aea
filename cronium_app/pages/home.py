"""Front page: what this server is and where its API lives."""

from __future__ import annotations

import reflex as rx


def page() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Cronium", size="8"),
            rx.text("Schedule and run your scripts in locked-down containers."),
            rx.text(
                "This server's REST API is documented at ",
                rx.link("/api/v1/docs", href="/api/v1/docs"),
                "; create an account with POST /api/v1/auth/register.",
            ),
            spacing="4",
            max_width="40em",
        ),
        min_height="80vh",
        padding="2em",
    )
