"""The Execute button: says "Creating job…" while the job is being queued."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.roles import runners_only
from cronium_app.components.shortcuts import RUN, marker
from cronium_app.state.execute import ExecuteState


def execute_button(
    event_id, *, size: str = "2", element_id: str | None = None, shortcut: bool = False, **props
) -> rx.Component:
    """`shortcut`: the `r` key presses this button (the open event's one).
    Shown only to a role that may run events (owner, editor, runner)."""
    busy = ExecuteState.creating_for == event_id
    if element_id:
        props["id"] = element_id
    return runners_only(rx.button(
        rx.cond(busy, rx.spinner(size="1"), rx.icon("play", size=14)),
        rx.cond(busy, "Creating job…", "Execute"),
        on_click=ExecuteState.execute(event_id),
        disabled=ExecuteState.creating_for != 0,
        size=size,
        white_space="nowrap",
        custom_attrs={"data-testid": "execute-button", **(marker(RUN) if shortcut else {})},
        **props,
    ))
