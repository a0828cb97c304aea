"""A workflow's shape: steps as boxes, one row per topological level (the
first steps on top), and the edges listed as "a → b (on success)"."""

from __future__ import annotations

import reflex as rx

CONDITION_COLORS = {"always": "gray", "on_success": "green", "on_failure": "red", "on_condition": "violet"}


def _node(node) -> rx.Component:
    return rx.box(
        rx.text(node["name"], weight="bold", size="2", truncate=True),
        rx.text(node["event"], size="1", color_scheme="gray", truncate=True),
        padding="8px 12px",
        min_width="120px",
        max_width="220px",
        border=f"1px solid {rx.color('accent', 7)}",
        background=rx.color("accent", 2),
        border_radius="var(--radius-3)",
        custom_attrs={"data-testid": "graph-node", "data-step": node["name"]},
    )


def _level(nodes, index) -> rx.Component:
    return rx.vstack(
        rx.cond(
            index > 0,
            rx.center(rx.icon("chevron-down", size=18, color=rx.color("gray", 9)), width="100%"),
        ),
        rx.flex(rx.foreach(nodes, _node), spacing="3", wrap="wrap", justify="center", width="100%"),
        spacing="1",
        width="100%",
        custom_attrs={"data-testid": "graph-level"},
    )


def _edge(edge) -> rx.Component:
    return rx.badge(
        edge["text"],
        color_scheme=rx.match(edge["condition"], *CONDITION_COLORS.items(), "gray"),
        variant="soft",
        size="2",
        white_space="normal",
        word_break="break-word",
        custom_attrs={"data-testid": "graph-edge"},
    )


def workflow_graph(levels, edges, note, **props) -> rx.Component:
    return rx.vstack(
        rx.cond(
            levels.length() > 0,
            rx.vstack(rx.foreach(levels, _level), spacing="1", width="100%"),
            rx.cond(note == "", rx.text("Name a step to see the graph.", size="2", color_scheme="gray")),
        ),
        rx.cond(
            edges.length() > 0,
            rx.flex(rx.foreach(edges, _edge), spacing="2", wrap="wrap", width="100%"),
        ),
        rx.cond(note != "", rx.text(note, size="2", color_scheme="red", role="alert")),
        spacing="3",
        width="100%",
        padding="12px",
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-3)",
        **props,
    )
