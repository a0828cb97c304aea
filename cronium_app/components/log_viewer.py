"""The live log: one row per line, stderr and system lines marked, text only
(React escapes it: a line is never parsed as HTML), and a box that follows
the log's end until the reader scrolls up (FollowingLog)."""

from __future__ import annotations

import reflex as rx
from reflex_base.constants.compiler import MemoizationDisposition, MemoizationMode
from reflex_components_core.el.elements.typography import Div

from cronium_app.components.styles import MONO


def _stream_tag(stream) -> rx.Component:
    return rx.match(
        stream,
        ("stderr", rx.el.span("ERR", class_name="log-tag", color=rx.color("red", 12), background=rx.color("red", 4))),
        ("system", rx.el.span("SYS", class_name="log-tag", color=rx.color("blue", 12), background=rx.color("blue", 4))),
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
        "color": rx.color("gray", 11),
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


class FollowingLog(Div):
    """A scroll box that keeps its newest line in view until the reader
    scrolls up, and follows again once they scroll back to the end.

    Reflex's auto_scroll decides from the last scroll event whether the
    reader was "near the bottom"; the scroll event of a move up comes a
    frame later, and lines that arrive meanwhile pull the box back down
    under the reader's hand. (Not a subclass of it: Reflex collects the
    hooks of every class of a component, so its hook would run too.) Here
    the reader's intent wins at once: an upward wheel turn or key stops
    following before the view moves, any upward move of the view
    (scrollbar, touch) stops it too, and only a move down to the end
    resumes it. New lines are seen by a MutationObserver, set up once when
    the box mounts."""

    # As Reflex's AutoScroll: the box is memoized with its hooks.
    _memoization_mode = MemoizationMode(disposition=MemoizationDisposition.ALWAYS, recursive=False)

    @classmethod
    def create(cls, *children, **props):
        props.setdefault("overflow", "auto")
        return super().create(*children, **props)

    def add_imports(self) -> dict:
        return {"react": ["useEffect"]}

    def add_hooks(self) -> list[str | rx.Var]:
        # Once per mount: the box is this component's own element, and new
        # lines reach followEnd through the MutationObserver.
        return [
            f"""
useEffect(() => {{
    const box = {self.get_ref()}.current;
    if (!box) return;
    let following = true;
    // Where the view was, and how tall the lines were, when last looked at.
    let lastTop = 0;
    let lastHeight = 0;
    const endGap = (height) => height - box.scrollTop - box.clientHeight;
    const followEnd = () => {{
        const height = box.scrollHeight;
        if (height <= box.clientHeight) following = true;  // nothing to scroll: at the end
        // A move whose scroll event has not come yet (a scrollbar drag, a
        // script) when the lines change: up, the reader left the end; down
        // to where the end was, they came back. Not when the lines shrank
        // (a filter): the browser then pulled the view up itself.
        else if (height >= lastHeight) {{
            if (box.scrollTop < lastTop - 1) following = false;
            else if (box.scrollTop > lastTop + 1 && endGap(lastHeight) <= 50) following = true;
        }}
        if (following) box.scrollTop = height;
        lastTop = box.scrollTop;
        lastHeight = box.scrollHeight;
    }};
    const onScroll = () => {{
        if (box.scrollTop < lastTop - 1) following = false;
        else if (box.scrollTop > lastTop && endGap(box.scrollHeight) <= 50) following = true;
        lastTop = box.scrollTop;
        lastHeight = box.scrollHeight;
    }};
    const onWheel = (e) => {{ if (e.deltaY < 0) following = false; }};
    const onKey = (e) => {{ if (["ArrowUp", "PageUp", "Home"].includes(e.key)) following = false; }};
    const lines = new MutationObserver(followEnd);
    lines.observe(box, {{childList: true, subtree: true, characterData: true}});
    const size = new ResizeObserver(followEnd);
    size.observe(box);
    box.addEventListener("scroll", onScroll, {{passive: true}});
    box.addEventListener("wheel", onWheel, {{passive: true}});
    box.addEventListener("keydown", onKey);
    followEnd();
    return () => {{
        lines.disconnect();
        size.disconnect();
        box.removeEventListener("scroll", onScroll);
        box.removeEventListener("wheel", onWheel);
        box.removeEventListener("keydown", onKey);
    }};
}}, []);
""",
        ]


def log_lines(head, tail, *, empty_text, element_id: str = "log-lines") -> rx.Component:
    return FollowingLog.create(
        rx.foreach(head, log_row),
        rx.foreach(tail, log_row),
        rx.cond(
            (head.length() + tail.length()) == 0,
            rx.el.div(empty_text, class_name="log-empty", padding="16px", color=rx.color("gray", 11), font_size="13px"),
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
        # A log region, but not read out line by line (a job can print
        # thousands): the line count next to it is the polite live region.
        # Focusable, so the keyboard can scroll it.
        role="log",
        aria_live="off",
        aria_label="Log lines",
        tab_index=0,
    )
