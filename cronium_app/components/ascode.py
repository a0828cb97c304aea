"""Export and Import on the events page (events as code, README)."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.roles import editors_only
from cronium_app.components.styles import MONO
from cronium_app.state.ascode import AsCodeState as S

ACTION_COLOR = {"create": "green", "update": "amber", "unchanged": "gray", "delete": "red"}


def _plan_row(row) -> rx.Component:
    return rx.flex(
        rx.text(row["mark"], font_family=MONO, width="1.5em", flex_shrink="0"),
        rx.text(row["kind"], " ", rx.text.strong(row["name"], word_break="break-all"), ": ", row["action"],
                rx.cond(row["fields"] != "", rx.text.span(" (", row["fields"], ")"), rx.fragment()), size="2"),
        color=rx.match(row["action"], *ACTION_COLOR.items(), "gray"),
        custom_attrs={"data-testid": "plan-row", "data-action": row["action"], "data-name": row["name"]},
        spacing="1",
    )


def _plan() -> rx.Component:
    return rx.vstack(
        rx.text("Plan: ", S.summary, weight="medium", size="2", id="ascode-summary"),
        rx.box(rx.foreach(S.rows, _plan_row), max_height="240px", overflow_y="auto", width="100%"),
        rx.foreach(S.warnings, lambda w: rx.text(w, size="1", color_scheme="amber")),
        spacing="2",
        width="100%",
    )


def import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Import events as code"),
            rx.dialog.description(
                "Paste a document written by Export (or by the cronium export command). You see the plan "
                "before anything changes; "
                "items are matched by name, and secrets are references that are never changed.",
                size="2", color_scheme="gray",
            ),
            rx.vstack(
                rx.text_area(value=S.document, on_change=S.set_document, rows="12", font_family=MONO,
                             font_size="12px", spellcheck=False, placeholder="version: 1\nevents:\n- name: ...",
                             id="ascode-document", width="100%"),
                rx.text(
                    rx.flex(
                        rx.checkbox(checked=S.prune, on_change=S.set_prune, id="ascode-prune",
                                    aria_label="Also delete what the document does not name"),
                        "Also delete what the document does not name",
                        spacing="2", align="center",
                    ),
                    as_="label", size="2",
                ),
                rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", size="1",
                                                  id="ascode-error", width="100%")),
                rx.cond(S.summary != "", _plan()),
                spacing="3",
                width="100%",
                margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="ascode-cancel")),
                rx.button("Plan", variant="soft", on_click=S.plan, loading=S.busy, disabled=S.document == "",
                          id="ascode-plan"),
                rx.button("Apply", on_click=S.apply, loading=S.busy, disabled=~S.changes, id="ascode-apply"),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="720px",
            id="ascode-dialog",
        ),
        open=S.import_open,
        on_open_change=S.set_import_open,
    )


def ascode_buttons() -> rx.Component:
    return rx.fragment(
        rx.button(rx.icon("download", size=16), "Export", variant="soft", on_click=S.export, id="events-export"),
        # Importing changes definitions: editors and owners only.
        editors_only(rx.button(rx.icon("upload", size=16), "Import", variant="soft",
                                      on_click=S.set_import_open(True), id="events-import")),
        import_dialog(),
    )
