"""The live log: one row per line, stderr and system lines marked, text only
(React escapes it: a line is never parsed as HTML), auto-scroll that stops
while the reader is scrolled up (rx.auto_scroll)."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.styles import MONO


def _stream_tag(stream) -> rx.Component:
    return rx.match(
        stream,
        ("stderr", rx.el.span("ERR", class_name="log-tag", color=rx.color("red", 11), background=rx.color("red", 3))),
        ("system", rx.el.span("SYS", class_name="log-tag", color=rx.color("blue", 11), background=rx.color("blue", 3))),
        rx.el.span("", class_name="log-tag log-tag-empty"),
    )


def log_row(line) -> rx.Component:
    return rx.el.div(
        rx.el.span(line["time"], class_name="log-time"),
        _stream_tag(line["stream"]),
        rx.el.span(line["line"], class_name="log-text"),
        class_name="log-line",
        border_left=rx.match(
            line["stream"],
            ("stderr", f"3px solid {rx.color('red', 9)}"),
            ("system", f"3px solid {rx.color('blue', 8)}"),
            "3px solid transparent",
        ),
        background=rx.match(line["stream"], ("stderr", rx.color("red", 2)), "transparent"),
        color=rx.match(line["stream"], ("system", rx.color("gray", 11)), rx.color("gray", 12)),
        font_style=rx.match(line["stream"], ("system", "italic"), "normal"),
        custom_attrs={"data-stream": line["stream"], "data-seq": line["seq"], "data-testid": "log-line"},
    )


LOG_STYLE = {
    ".log-line": {
        "display": "flex",
        "gap": "10px",
        "padding": "1px 10px 1px 8px",
        "font_family": MONO,
        "font_size": "12.5px",
        "line_height": "1.55",
    },
    ".log-time": {
        # A phone needs the width for the text: the time shows from 480 px up.
        "display": rx.breakpoints(initial="none", sm="inline"),
        "color": rx.color("gray", 9),
        "flex_shrink": "0",
        "user_select": "none",
        "font_variant_numeric": "tabular-nums",
    },
    ".log-tag": {
        "flex_shrink": "0",
        "width": "30px",
        "text_align": "center",
        "border_radius": "3px",
        "font_size": "10.5px",
        "font_weight": "600",
        "font_style": "normal",
        "align_self": "flex-start",
        "margin_top": "2px",
        "line_height": "1.5",
        "user_select": "none",
    },
    # The empty marker keeps stdout lines in line with marked ones; a phone
    # gives that width to the text.
    ".log-tag-empty": {"display": rx.breakpoints(initial="none", sm="block")},
    ".log-text": {"white_space": "pre-wrap", "word_break": "break-word", "min_width": "0", "flex": "1"},
}


def log_lines(head, tail, *, empty_text, element_id: str = "log-lines") -> rx.Component:
    return rx.auto_scroll(
        rx.foreach(head, log_row),
        rx.foreach(tail, log_row),
        rx.cond(
            (head.length() + tail.length()) == 0,
            rx.el.div(empty_text, class_name="log-empty", padding="16px", color=rx.color("gray", 10), font_size="13px"),
        ),
        id=element_id,
        height=rx.breakpoints(initial="55vh", md="60vh"),
        min_height="240px",
        padding_y="6px",
        background=rx.color("gray", 1),
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-3)",
        style=LOG_STYLE,
        width="100%",
        role="log",
    )
