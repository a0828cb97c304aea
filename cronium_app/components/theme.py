"""Light and dark: the page follows the browser's prefers-color-scheme
(Reflex's color mode "system") until the user picks a theme; the pick is kept
on the account (users.theme), so it follows them to every browser.

Reflex keeps the color mode in the page (React context and localStorage) and
only a script in the page can set it: `theme_sync` sets it whenever the
account's theme (AppState.user_theme, loaded with the session) differs from
the page's, so the account is the one source and the switch only saves."""

from __future__ import annotations

import reflex as rx
# Not exported by `reflex` itself: the page's color mode and its setter.
from reflex_base.style import color_mode, set_color_mode

from cronium_app.models import Theme
from cronium_app.state.base import AppState

_LABELS = {Theme.system.value: "Auto", Theme.light.value: "Light", Theme.dark.value: "Dark"}


def theme_sync() -> rx.Component:
    """Mounted only while the page's color mode differs from the account's
    theme; mounting sets it (and so unmounts it again)."""
    return rx.cond(
        (AppState.user_theme != "") & (AppState.user_theme != color_mode),
        rx.el.span(on_mount=set_color_mode(AppState.user_theme), hidden=True, id="theme-sync"),
    )


def theme_switch() -> rx.Component:
    """Auto (the system's setting), Light, Dark: a group of radio buttons."""
    return rx.segmented_control.root(
        *[
            rx.segmented_control.item(label, value=value, id=f"theme-{value}")
            for value, label in _LABELS.items()
        ],
        value=rx.cond(AppState.user_theme != "", AppState.user_theme, color_mode),
        on_change=AppState.choose_theme,
        size="1",
        width="100%",
        aria_label="Theme",
        id="theme-switch",
    )
