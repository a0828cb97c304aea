"""What the pages about one thing (a job, a workflow run) share: the page
around the content (not found, error, loading), the header with its back
link, title, badges and id, and the label / value rows of a data list.

`S` is a detail state with not_found, error, loaded and load."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.feedback import error_callout, loading_block, not_found
from cronium_app.components.layout import app_shell
from cronium_app.components.styles import MONO


def back_link(label, href, **props) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("arrow-left", size=14), label, align="center", spacing="1"),
        href=href,
        size="2",
        **props,
    )


def detail_header(back: rx.Component, title: rx.Component, *badges: rx.Component, id_text, id_element: str,
                  actions: rx.Component) -> rx.Component:
    """The back link above the title and its badges, the thing's id below
    them, and the actions at the right (under them on phones)."""
    return rx.flex(
        rx.vstack(
            back,
            rx.flex(title, *badges, spacing="3", align="center", wrap="wrap"),
            rx.code(id_text, variant="ghost", color_scheme="gray", size="2", id=id_element, word_break="break-all"),
            spacing="2",
            min_width="0",
        ),
        actions,
        justify="between",
        align=rx.breakpoints(initial="start", sm="end"),
        direction=rx.breakpoints(initial="column", sm="row"),
        spacing="3",
        width="100%",
        margin_bottom="20px",
    )


def detail_item(label: str, value, element_id: str | None = None, *, mono: bool = False,
                label_width: str = "120px") -> rx.Component:
    props = {"id": element_id} if element_id else {}
    return rx.data_list.item(
        rx.data_list.label(label, min_width=label_width),
        rx.data_list.value(
            rx.text(value, font_family=MONO if mono else None, word_break="break-all", **props),
        ),
        align="center",
    )


def detail_page(
    S, *, missing: tuple[str, str, str, str, str], loading_label: str, content: list[rx.Component]
) -> rx.Component:
    """The not-found block when there is no such thing (`missing`: title,
    text, back label, back link, element id); else the error, or the content
    once loaded."""
    title, text, back_label, back_href, missing_id = missing
    return app_shell(
        rx.cond(
            S.not_found,
            not_found(title, text, back_label, back_href, id=missing_id),
            rx.cond(
                S.error != "",
                error_callout(S.error, on_retry=S.load),
                rx.cond(
                    S.loaded,
                    rx.vstack(*content, spacing="4", width="100%"),
                    loading_block(loading_label),
                ),
            ),
        ),
    )
