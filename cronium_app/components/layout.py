"""The frame around every signed-in page: a sidebar on wide screens, a top
bar with a collapsible menu on phones, the user's email and a logout button."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.feedback import loading_block
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
        id=f"nav-{label.lower()}",
        padding_x="12px",
        padding_y="8px",
        border_radius="var(--radius-3)",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        font_weight=rx.cond(active, "600", "400"),
        _hover={"background": rx.color("gray", 3), "color": rx.color("gray", 12)},
    )


def nav_links() -> rx.Component:
    return rx.vstack(
        *[nav_link(label, icon, href) for label, icon, href in routes.NAV],
        rx.cond(
            AppState.user_role == Role.admin.value,
            rx.vstack(*[nav_link(label, icon, href) for label, icon, href in routes.ADMIN_NAV], spacing="1", width="100%"),
        ),
        spacing="1",
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
            nav_links(),
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
                nav_links(),
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


def app_shell(*children: rx.Component) -> rx.Component:
    """A signed-in page. Until the session is confirmed it shows a spinner
    (the page's on_load sends strangers to /login)."""
    return rx.box(
        rx.cond(
            AppState.signed_in,
            rx.flex(
                sidebar(),
                rx.box(
                    topbar(),
                    rx.box(
                        rx.box(*children, max_width="1200px", margin_x="auto", width="100%"),
                        padding=rx.breakpoints(initial="16px", md="28px 32px"),
                    ),
                    flex="1",
                    min_width="0",
                ),
                min_height="100vh",
                width="100%",
            ),
            loading_block("Checking your session…", min_height="60vh"),
        ),
        min_height="100vh",
        on_mount=AppState.detect_timezone,
    )
