"""The dialog that asks before an action that cannot be undone (delete,
revoke, forget): a title, what will happen, Cancel and the action."""

from __future__ import annotations

import reflex as rx


def confirm_dialog(
    *, is_open, on_open_change, title, description: rx.Component, confirm_label, on_confirm, loading,
    element_id: str, buttons_id: str | None = None, color_scheme: str = "red", max_width: str = "440px",
    options: rx.Component | None = None,
) -> rx.Component:
    """An alert dialog (`element_id`) with Cancel and one action, whose ids
    are `<buttons_id>-cancel` and `<buttons_id>-confirm` (`buttons_id`
    defaults to `element_id`); `options` (choices that go with the action)
    sit between the description and the buttons."""
    buttons_id = buttons_id or element_id
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            options if options is not None else rx.fragment(),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", id=f"{buttons_id}-cancel")
                ),
                rx.button(
                    confirm_label, color_scheme=color_scheme, on_click=on_confirm, loading=loading,
                    # High contrast: white on Radix's red 9 is 3.9:1, below AA's 4.5.
                    high_contrast=True, id=f"{buttons_id}-confirm",
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
                wrap="wrap",
            ),
            max_width=max_width,
            id=element_id,
        ),
        open=is_open,
        on_open_change=on_open_change,
    )
