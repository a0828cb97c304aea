"""The Execute button: says "Creating job…" while the job is being queued."""

from __future__ import annotations

import reflex as rx

from cronium_app.state.execute import ExecuteState


def execute_button(event_id, *, size: str = "2", element_id: str | None = None, **props) -> rx.Component:
    busy = ExecuteState.creating_for == event_id
    if element_id:
        props["id"] = element_id
    return rx.button(
        rx.cond(busy, rx.spinner(size="1"), rx.icon("play", size=14)),
        rx.cond(busy, "Creating job…", "Execute"),
        on_click=ExecuteState.execute(event_id),
        disabled=ExecuteState.creating_for != 0,
        size=size,
        white_space="nowrap",
        custom_attrs={"data-testid": "execute-button"},
        **props,
    )
