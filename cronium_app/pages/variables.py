"""/variables: list, create, edit and delete the user's variables."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.dialogs import confirm_dialog
from cronium_app.components.feedback import empty_state, error_callout, loading_block
from cronium_app.components.forms import field_error, labelled
from cronium_app.components.json_block import json_block
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.list_page import paged_table
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.variables import VariablesState as S

COLUMNS = [("Key", False), ("Value", False), ("Updated", True), ("", False)]

VALUE_HELP = (
    'JSON: an object, an array, a number, true, false, null or a "quoted string". '
    "Text that is not JSON is saved as a plain string; text starting with {, [ or \" must be valid JSON."
)
SECRET_HELP = "Stored encrypted and never shown again; your scripts still read it, and job logs show *** instead."
HIDDEN_VALUE = "•••••• (secret: set)"


def _secret_badge() -> rx.Component:
    # Said in words and with an icon, not by colour alone.
    return rx.badge(
        rx.icon("lock", size=12), "secret",
        variant="soft", color_scheme="amber", size="1",
        custom_attrs={"data-testid": "secret-badge"},
    )


def _value_cell(row) -> rx.Component:
    """A plain variable's JSON; a secret's mask (its value never reaches the page)."""
    return rx.cond(
        row["secret"],
        rx.text(
            HIDDEN_VALUE, size="2", color_scheme="gray", font_family=MONO,
            custom_attrs={"data-testid": "variable-value"},
        ),
        json_block(row["value"], max_height="140px", dense=True, custom_attrs={"data-testid": "variable-value"}),
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.code(row["key"], variant="ghost", size="2", weight="medium", overflow_wrap="anywhere"),
                rx.cond(
                    row["secret"],
                    _secret_badge(),
                    rx.badge(row["kind"], variant="surface", color_scheme="gray", size="1"),
                ),
                # On phones the "Updated" column is hidden: the time goes here.
                rx.text(row["updated"], size="1", color_scheme="gray", display=rx.breakpoints(initial="block", md="none")),
                spacing="1",
                align="start",
            ),
            min_width=rx.breakpoints(initial="100px", md="150px"),
            max_width="240px",
            vertical_align="top",
        ),
        rx.table.cell(
            _value_cell(row),
            min_width="0",
            width="100%",
            max_width="0",
        ),
        rx.table.cell(
            rx.text(row["updated"], size="2", color_scheme="gray", white_space="nowrap", title=row["updated_full"]),
            display=WIDE_CELL,
            vertical_align="top",
        ),
        rx.table.cell(
            rx.flex(
                rx.icon_button(
                    rx.icon("pencil", size=16), variant="soft", color_scheme="gray", size="2",
                    on_click=S.open_edit(row["key"]), aria_label=rx.cond(row["secret"], "Replace value", "Edit"),
                    title=rx.cond(row["secret"], "Replace value", "Edit"),
                    custom_attrs={"data-testid": "edit-variable"},
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=16), variant="soft", color_scheme="red", size="2",
                    on_click=S.ask_delete(row["key"]), aria_label="Delete",
                    custom_attrs={"data-testid": "delete-variable"},
                ),
                spacing="2",
                direction=rx.breakpoints(initial="column", sm="row"),
                justify="end",
            ),
            vertical_align="top",
        ),
        custom_attrs={"data-testid": "variable-row", "data-key": row["key"], "data-secret": row["secret"].to_string()},
    )


def _table() -> rx.Component:
    return paged_table(S, "variables", COLUMNS, _row, style={"table_layout": "auto"})


def editor_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(S.editing_secret, "Replace secret value", rx.cond(S.editing_key != "", "Edit variable", "New variable"))
            ),
            rx.dialog.description(
                "Your scripts read and write variables with the cronium helpers; the API has them too.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                labelled(
                    "Key",
                    rx.input(
                        value=S.key,
                        on_change=S.set_key,
                        placeholder="report.last_run",
                        font_family=MONO,
                        disabled=S.editing_key != "",
                        id="variable-key",
                        width="100%",
                    ),
                    errors=S.errors,
                    key="key",
                    hint="Letters, digits, '_', '.' and '-'; up to 128.",
                ),
                labelled(
                    "Value",
                    rx.text_area(
                        value=S.value_text,
                        on_change=S.set_value_text,
                        placeholder=rx.cond(S.editing_secret, "The new value (the current one is never shown)",
                                            '{"threshold": 5}'),
                        rows="8",
                        font_family=MONO,
                        id="variable-value",
                        width="100%",
                    ),
                    errors=S.errors,
                    key="value",
                    hint=VALUE_HELP,
                ),
                labelled(
                    "Secret",
                    rx.checkbox(
                        "Keep the value secret",
                        checked=S.secret,
                        on_change=S.set_secret,
                        id="variable-secret",
                    ),
                    hint=SECRET_HELP,
                ),
                field_error(S.errors, "form"),
                spacing="4",
                width="100%",
                margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="variable-cancel")),
                rx.button(rx.icon("save", size=16), "Save", on_click=S.save, loading=S.saving, id="variable-save"),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="560px",
            id="variable-dialog",
        ),
        open=S.editor_open,
        on_open_change=S.set_editor_open,
    )


def delete_dialog() -> rx.Component:
    return confirm_dialog(
        is_open=S.delete_key != "",
        on_open_change=S.set_delete_open,
        title="Delete this variable?",
        description=rx.text(
            rx.code(S.delete_key, word_break="break-all"),
            " will be removed. Scripts that read it get nothing from now on.",
        ),
        confirm_label="Delete variable",
        on_confirm=S.delete,
        loading=S.deleting,
        element_id="delete-dialog",
        buttons_id="delete",
    )


def page() -> rx.Component:
    return app_shell(
        page_header(
            "Variables",
            rx.button(rx.icon("plus", size=16), "New variable", on_click=S.open_create, id="new-variable"),
            subtitle="JSON values your scripts share, by key.",
        ),
        rx.cond(S.error != "", error_callout(S.error, on_retry=S.load)),
        rx.cond(
            S.loaded,
            rx.cond(
                S.rows.length() > 0,
                _table(),
                empty_state(
                    "braces",
                    "No variables yet — create one",
                    "A variable keeps a JSON value under a key: settings, counters, the last run's result. "
                    "Scripts read and update them while they run.",
                    rx.button(rx.icon("plus", size=16), "Create a variable", on_click=S.open_create),
                    id="variables-empty",
                ),
            ),
            rx.cond(S.error == "", loading_block("Loading variables…")),
        ),
        editor_dialog(),
        delete_dialog(),
    )
