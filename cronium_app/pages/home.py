"""/ : the dashboard (stat cards, jobs per hour, recent jobs; live)."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.feedback import empty_state, error_callout, loading_block
from cronium_app.components.jobs_list import compact_job_row
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.roles import create_link
from cronium_app.state.dashboard import DashboardState

_TONE_COLORS = (("good", "green"), ("bad", "red"))

# The chart's stacked series: (key in each hourly point, legend, colour).
CHART_SERIES = (
    ("completed", "Completed", rx.color("green", 9)),
    ("failed", "Failed", rx.color("red", 9)),
    ("partial", "Partial", rx.color("orange", 9)),
    ("other", "Other", rx.color("gray", 8)),
)


def stat_card(card) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.text(card["label"], size="2", color_scheme="gray", weight="medium"),
                rx.skeleton(
                    rx.text(
                        rx.cond(card["value"] == "", "0", card["value"]),
                        size=rx.breakpoints(initial="7", md="8"),
                        weight="bold",
                        custom_attrs={"data-testid": "stat-value"},
                    ),
                    loading=card["value"] == "",
                ),
                rx.skeleton(
                    rx.text(
                        rx.cond(card["trend"] == "", "vs yesterday", card["trend"]),
                        size="1",
                        color_scheme=rx.match(card["tone"], *_TONE_COLORS, "gray"),
                        custom_attrs={"data-testid": "stat-trend"},
                    ),
                    loading=card["value"] == "",
                ),
                spacing="1",
            ),
            width="100%",
            height="100%",
            _hover={"background": rx.color("gray", 3)},
        ),
        href=card["href"],
        underline="none",
        color="inherit",
        id="stat-" + card["key"],
        custom_attrs={"data-testid": "stat-card"},
    )


def hourly_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Jobs per hour", size="3", as_="h2"),
                rx.text("last 24 hours, by outcome", size="2", color_scheme="gray"),
                align="baseline",
                spacing="2",
                wrap="wrap",
            ),
            rx.box(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False, stroke=rx.color("gray", 5)),
                    rx.recharts.x_axis(
                        data_key="hour", interval="equidistantPreserveStart", min_tick_gap=24, tick_line=False,
                        stroke=rx.color("gray", 9), font_size=11,
                    ),
                    rx.recharts.y_axis(
                        allow_decimals=False, width=56, tick_line=False, stroke=rx.color("gray", 9), font_size=11,
                    ),
                    rx.recharts.graphing_tooltip(cursor={"fill": rx.color("gray", 4)}),
                    rx.recharts.legend(icon_type="square", icon_size=10),
                    *[
                        rx.recharts.bar(
                            data_key=key, name=name, stack_id="jobs", fill=fill, is_animation_active=False,
                        )
                        for key, name, fill in CHART_SERIES
                    ],
                    data=DashboardState.hourly,
                    width="100%",
                    height=260,
                    margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
                ),
                width="100%",
                id="hourly-chart",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def recent_jobs() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Recent jobs", size="3", as_="h2"),
                rx.spacer(),
                rx.link("All jobs", href=routes.JOBS, size="2"),
                width="100%",
                align="center",
            ),
            rx.cond(
                DashboardState.recent.length() > 0,
                rx.vstack(rx.foreach(DashboardState.recent, compact_job_row), spacing="0", width="100%"),
                empty_state(
                    "inbox",
                    "No jobs yet",
                    "Run an event and its jobs show up here, live.",
                    rx.link(rx.button("Go to events", variant="soft"), href=routes.EVENTS),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="recent-jobs",
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Dashboard",
            create_link("New event", routes.EVENT_NEW),
            subtitle="Updates live while jobs run.",
        ),
        rx.cond(
            DashboardState.error != "",
            error_callout(DashboardState.error, on_retry=DashboardState.retry, margin_bottom="16px"),
        ),
        rx.cond(
            DashboardState.loaded,
            rx.vstack(
                rx.grid(
                    rx.foreach(DashboardState.cards, stat_card),
                    columns=rx.breakpoints(initial="2", lg="4"),
                    spacing="3",
                    width="100%",
                    id="stat-cards",
                ),
                hourly_chart(),
                recent_jobs(),
                spacing="4",
                width="100%",
            ),
            rx.cond(DashboardState.error == "", loading_block("Loading the dashboard…")),
        ),
    )
