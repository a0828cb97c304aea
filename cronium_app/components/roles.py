"""What a page offers by the role in the tab's workspace: a viewer sees no
button that changes or runs anything, a runner none that changes a
definition. Only a matter of what is shown: every handler's service checks
the role again (auth/access.py), whatever a page offers."""

from __future__ import annotations

import reflex as rx

from cronium_app.state.base import AppState


def editors_only(component: rx.Component) -> rx.Component:
    """Shown to owners and editors: creating, changing, deleting definitions."""
    return rx.cond(AppState.can_edit, component)


def runners_only(component: rx.Component) -> rx.Component:
    """Shown to owners, editors and runners: running events and workflows."""
    return rx.cond(AppState.can_run, component)


def create_link(label: str, href: str, element_id: str | None = None) -> rx.Component:
    """A page's "New ..." button (a link to the editor), for editors."""
    button = rx.button(rx.icon("plus", size=16), label, **({"id": element_id} if element_id else {}))
    return editors_only(rx.link(button, href=href))
