"""The frame around every signed-in page: a sidebar on wide screens, a top
bar with a collapsible menu on phones, the user's email and a logout button."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.feedback import loading_block
from cronium_app.components.forms import labelled
from cronium_app.components.shortcuts import shortcuts_button, shortcuts_dialog
from cronium_app.components.theme import theme_switch, theme_sync
from cronium_app.models import Role
from cronium_app.state.base import AppState

SIDEBAR_WIDTH = "232px"
WIDE = "md"  # the breakpoint (768 px) from which the sidebar shows


def _is_active(href: str):
    path = rx.State.router.url.path
    if href == routes.DASHBOARD:
        return (path == "/") | (path == "")
    return path.startswith(href)


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(
                rx.icon("timer", size=18),
                width="28px",
                height="28px",
                border_radius="var(--radius-2)",
                background=rx.color("accent", 9),
                color="white",
            ),
            rx.text("Cronium", weight="bold", size="4", color=rx.color("gray", 12)),
            align="center",
            spacing="2",
        ),
        href=routes.DASHBOARD,
        underline="none",
        id="brand",
    )


def nav_link(label: str, icon: str, href: str) -> rx.Component:
    active = _is_active(href)
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3"), align="center", spacing="3"),
        href=href,
        underline="none",
        on_click=AppState.close_nav,
        id=f"nav-{label.lower().replace(' ', '-')}",
        # The page you are on, said in words too (not by its colour alone).
        custom_attrs={"aria-current": rx.cond(active, "page", "false")},
        padding_x="12px",
        padding_y="8px",
        border_radius="var(--radius-3)",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        font_weight=rx.cond(active, "600", "400"),
        _hover={"background": rx.color("gray", 3), "color": rx.color("gray", 12)},
    )


def workspace_switcher(element_id: str) -> rx.Component:
    """Which workspace every page of this tab reads and changes. The sidebar
    and the phone menu each have one, with their own id (both are in the
    page at once while the phone menu is open)."""
    return labelled(
        "Workspace",
        rx.select.root(
            rx.select.trigger(width="100%", id=element_id, custom_attrs={"data-testid": "workspace-switcher"}),
            rx.select.content(
                rx.foreach(AppState.workspace_options, lambda o: rx.select.item(o["label"], value=o["id"])),
            ),
            value=AppState.workspace_id,
            on_change=AppState.switch_workspace,
            size="2",
        ),
        padding_x="4px",
        padding_bottom="12px",
    )


def nav_links(switcher_id: str) -> rx.Component:
    # Only one of the two navigations (sidebar, phone menu) is ever shown.
    # The workspace switcher is part of it: it moves every page elsewhere.
    return rx.el.nav(
        rx.vstack(
            workspace_switcher(switcher_id),
            *[nav_link(label, icon, href) for label, icon, href in routes.NAV],
            rx.cond(
                AppState.user_role == Role.admin.value,
                rx.vstack(*[nav_link(label, icon, href) for label, icon, href in routes.ADMIN_NAV], spacing="1", width="100%"),
            ),
            spacing="1",
            width="100%",
        ),
        aria_label="Main",
        width="100%",
    )


def user_box() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("circle-user", size=18, color=rx.color("gray", 10), flex_shrink="0"),
            rx.text(
                AppState.user_email,
                size="2",
                color_scheme="gray",
                id="user-email",
                overflow="hidden",
                text_overflow="ellipsis",
                white_space="nowrap",
                title=AppState.user_email,
            ),
            align="center",
            spacing="2",
            width="100%",
            min_width="0",
        ),
        theme_switch(),
        shortcuts_button(),
        rx.button(
            rx.icon("log-out", size=16),
            "Log out",
            variant="soft",
            color_scheme="gray",
            size="2",
            width="100%",
            on_click=AppState.logout,
            id="logout",
        ),
        spacing="2",
        width="100%",
    )


def sidebar() -> rx.Component:
    # The column spans the whole page height (its background and border);
    # the navigation inside it sticks to the top of the window.
    return rx.box(
        rx.flex(
            rx.box(brand(), padding="4px 8px 20px"),
            nav_links("workspace-switcher"),
            rx.spacer(),
            user_box(),
            direction="column",
            position="sticky",
            top="0",
            height="100vh",
            padding="20px 12px",
        ),
        width=SIDEBAR_WIDTH,
        flex_shrink="0",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        display=rx.breakpoints(initial="none", md="block"),
        id="sidebar",
    )


def topbar() -> rx.Component:
    return rx.box(
        rx.hstack(
            brand(),
            rx.spacer(),
            rx.icon_button(
                rx.cond(AppState.nav_open, rx.icon("x", size=20), rx.icon("menu", size=20)),
                variant="ghost",
                color_scheme="gray",
                size="3",
                on_click=AppState.toggle_nav,
                aria_label="Menu",
                id="nav-toggle",
            ),
            align="center",
            width="100%",
            padding="10px 16px",
        ),
        rx.cond(
            AppState.nav_open,
            rx.vstack(
                nav_links("workspace-switcher-menu"),
                rx.separator(),
                user_box(),
                spacing="3",
                padding="8px 16px 16px",
                width="100%",
                id="mobile-nav",
            ),
        ),
        position="sticky",
        top="0",
        z_index="20",
        background=rx.color("gray", 2),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        display=rx.breakpoints(initial="block", md="none"),
        width="100%",
    )


def page_header(title, *actions: rx.Component, subtitle=None) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size=rx.breakpoints(initial="6", md="7"), id="page-title", word_break="break-word"),
            rx.text(subtitle, color_scheme="gray", size="2") if subtitle is not None else rx.fragment(),
            spacing="1",
            min_width="0",
        ),
        rx.flex(*actions, spacing="2", wrap="wrap", align="center") if actions else rx.fragment(),
        justify="between",
        align=rx.breakpoints(initial="start", sm="center"),
        direction=rx.breakpoints(initial="column", sm="row"),
        spacing="3",
        width="100%",
        margin_bottom="20px",
    )


MAIN_ID = "main-content"


def skip_link() -> rx.Component:
    """The first thing Tab reaches: jumps past the navigation to the page's
    content. Off screen until focused."""
    return rx.el.a(
        "Skip to content",
        href=f"#{MAIN_ID}",
        # Chromium scrolls to the target of a fragment link but leaves the
        # focus where it was: move it, so the next Tab starts in the page.
        on_click=rx.call_script(f"document.getElementById('{MAIN_ID}').focus()"),
        id="skip-link",
        class_name="rt-Text rt-r-size-2",
        position="absolute",
        left="-10000px",
        top="8px",
        z_index="100",
        padding="8px 12px",
        border_radius="var(--radius-3)",
        background=rx.color("accent", 9),
        color="var(--accent-contrast)",
        _focus={"left": "8px"},
    )


def main_area(*children: rx.Component, **props) -> rx.Component:
    """The page's `<main>` landmark, the skip link's target (focusable by
    script only, so the skip moves the focus too). `data-ready` turns true
    once the page's scripts run and its state arrived: what browser tests
    wait for before pressing a shortcut."""
    return rx.el.main(*children, id=MAIN_ID, tab_index=-1, _focus={"outline": "none"},
                      custom_attrs={"data-ready": rx.State.is_hydrated}, **props)


def app_shell(*children: rx.Component) -> rx.Component:
    """A signed-in page. Until the session is confirmed it shows a spinner
    (the page's on_load sends strangers to /login)."""
    return rx.box(
        skip_link(),
        theme_sync(),
        shortcuts_dialog(),
        rx.cond(
            AppState.signed_in,
            rx.flex(
                sidebar(),
                rx.box(
                    topbar(),
                    main_area(
                        rx.box(*children, max_width="1200px", margin_x="auto", width="100%"),
                        padding=rx.breakpoints(initial="16px", md="28px 32px"),
                    ),
                    flex="1",
                    min_width="0",
                ),
                min_height="100vh",
                width="100%",
            ),
            main_area(loading_block("Checking your session…", min_height="60vh")),
        ),
        min_height="100vh",
        on_mount=AppState.detect_timezone,
    )
