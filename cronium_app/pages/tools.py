"""/tools: the integrations events send through (Slack, Discord, Microsoft
Teams, a webhook, email): list, create, edit, send a test message, delete."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.dialogs import confirm_dialog
from cronium_app.components.feedback import empty_state
from cronium_app.components.forms import field_error, invalid_props, labelled, marked_input
from cronium_app.components.list_page import list_page, paged_table, search_box
from cronium_app.components.roles import editors_only
from cronium_app.components.servers import check_summary, keep_or
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.tools import KIND_OPTIONS
from cronium_app.state.tools import ToolsState as S

COLUMNS = [("Tool", False), ("Kind", True), ("Last test", True), ("", False)]
PHONE_ONLY = rx.breakpoints(initial="flex", md="none")
EDITING = S.editing_id != 0

HELP = (
    "A tool holds the address and credentials Cronium sends through. Events of type Tool send a message "
    "through one, and any event's conditional actions can alert through one. Credentials are stored "
    "encrypted and never shown again."
)


def _tool_cell(row) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            rx.text(row["name"], weight="medium", overflow_wrap="anywhere", custom_attrs={"data-testid": "tool-name"}),
            rx.code(row["target"], variant="ghost", size="1", color_scheme="gray", overflow_wrap="anywhere",
                    custom_attrs={"data-testid": "tool-target"}),
            rx.cond(row["details"] != "", rx.text(row["details"], size="1", color_scheme="gray")),
            rx.vstack(
                rx.text(row["kind_label"], size="1", color_scheme="gray"),
                check_summary(row, S.testing, "tool"),
                spacing="1", align="start", display=PHONE_ONLY, width="100%",
            ),
            spacing="1", align="start", min_width="0",
        ),
        min_width=rx.breakpoints(initial="0", md="200px"),
        vertical_align="top",
    )


def _actions(row) -> rx.Component:
    # Test, edit, delete: editors and owners only.
    return editors_only(rx.flex(
        rx.button(
            rx.icon("send", size=14), "Test", variant="soft", size="1", on_click=S.open_test(row["id"]),
            disabled=S.testing.contains(row["id"]), custom_attrs={"data-testid": "test-tool"},
        ),
        rx.icon_button(
            rx.icon("pencil", size=14), variant="soft", color_scheme="gray", size="1",
            on_click=S.open_edit(row["id"]), aria_label="Edit", custom_attrs={"data-testid": "edit-tool"},
        ),
        rx.icon_button(
            rx.icon("trash-2", size=14), variant="soft", color_scheme="red", size="1",
            on_click=S.ask_delete(row["id"]), aria_label="Delete", custom_attrs={"data-testid": "delete-tool"},
        ),
        spacing="2",
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="end", sm="center"),
        justify="end",
    ))


def _row(row) -> rx.Component:
    return rx.table.row(
        _tool_cell(row),
        rx.table.cell(rx.badge(row["kind_label"], variant="soft", size="1"), display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(check_summary(row, S.testing, "tool"), display=WIDE_CELL, vertical_align="top",
                      max_width="280px"),
        rx.table.cell(_actions(row), vertical_align="top"),
        custom_attrs={"data-testid": "tool-row", "data-tool-id": row["id"], "data-name": row["name"]},
    )


# -- the create / edit dialog -----------------------------------------------------


def _input(key: str, *, attrs: dict | None = None, **props) -> rx.Component:
    return marked_input(S.errors, key, attrs=attrs, value=S.form[key], on_change=lambda value: S.set_field(key, value),
                        id=f"tool-{key}", **props)


def _field(label: str, key: str, hint=None, **props) -> rx.Component:
    return labelled(label, _input(key, **props), errors=S.errors, key=key, hint=hint)


def _secret(label: str, key: str, kept: str, fresh: str, hint=None) -> rx.Component:
    """A password-type field; on edit, left empty it keeps the stored value."""
    return _field(label, key, hint, type="password", placeholder=keep_or(EDITING, kept, fresh),
                  attrs={"autoComplete": "new-password"})


def _select(label: str, key: str, options: list[tuple[str, str]], **props) -> rx.Component:
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(id=f"tool-{key}", width="100%"),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in options]),
            value=S.form[key], on_change=lambda value: S.set_field(key, value), **props,
        ),
        errors=S.errors, key=key,
    )


def _url_field() -> rx.Component:
    return _secret("URL", "url", "Empty keeps the stored URL", "https://…", hint=S.url_hint)


def _webhook_fields() -> rx.Component:
    return rx.vstack(
        _url_field(),
        rx.flex(
            rx.box(_select("Method", "method", [(m, m) for m in ("POST", "PUT", "PATCH")]), width="120px"),
            rx.box(_field("Content type", "contentType"), flex="1", min_width="0"),
            spacing="3", width="100%",
        ),
        labelled(
            "Headers",
            rx.text_area(
                value=S.form["headers"], on_change=lambda value: S.set_field("headers", value), rows="3",
                font_family=MONO, font_size="12px", spellcheck=False, id="tool-headers", width="100%",
                placeholder=rx.cond(EDITING, "Empty keeps the stored headers", "Authorization: Bearer …"),
                **invalid_props(S.errors, "headers"),
            ),
            errors=S.errors, key="headers",
            hint=rx.cond(
                S.stored_headers.length() > 0,
                "One 'Name: value' per line; stored: " + S.stored_headers.join(", ") + ". Values are secret.",
                "One 'Name: value' per line. Values are stored encrypted.",
            ),
        ),
        _secret(
            "Signing secret", "signingSecret", rx.cond(S.stored_signed, "Empty keeps the stored secret", "Not signed"),
            "Optional",
            hint="With a secret, each call carries X-Cronium-Timestamp and X-Cronium-Signature: "
            "sha256=HMAC-SHA256(secret, timestamp + '.' + body).",
        ),
        spacing="4", width="100%",
    )


def _email_fields() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.box(_field("SMTP host", "host", placeholder="smtp.example.com"), flex="1", min_width="0"),
            rx.box(_field("Port", "port", input_mode="numeric"), width="96px", flex_shrink="0"),
            spacing="3", width="100%",
        ),
        _select("Encryption", "security",
                [("starttls", "STARTTLS (port 587)"), ("tls", "TLS (port 465)"), ("none", "None (no login)")]),
        _field("Username", "username", hint="Leave empty for a relay that needs no login."),
        _secret("Password", "password", "Empty keeps the stored password", ""),
        _field("From", "fromAddress", placeholder="cronium@example.com"),
        spacing="4", width="100%",
    )


def editor_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(EDITING, "Edit tool", "New tool")),
            rx.dialog.description("Where Cronium sends messages.", size="2", color_scheme="gray"),
            rx.vstack(
                _field("Name", "name", placeholder="ops channel"),
                rx.cond(
                    EDITING,
                    rx.text("Kind: ", rx.text.strong(S.kind_label), size="2"),
                    _select("Kind", "kind", KIND_OPTIONS),
                ),
                rx.match(S.kind, ("email", _email_fields()), ("webhook", _webhook_fields()), _url_field()),
                field_error(S.errors, "form"),
                spacing="4", width="100%", margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="tool-cancel")),
                rx.button(rx.icon("save", size=16), "Save", on_click=S.save, loading=S.saving, id="tool-save"),
                spacing="3", justify="end", margin_top="16px",
            ),
            max_width="620px",
            id="tool-dialog",
        ),
        open=S.editor_open,
        on_open_change=S.set_editor_open,
    )


def test_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Send a test message"),
            rx.dialog.description(
                rx.text("Sends a short message through ", rx.text.strong(S.test_name), " now."),
                size="2", color_scheme="gray",
            ),
            rx.vstack(
                rx.cond(
                    S.test_kind == "email",
                    labelled("To", rx.input(value=S.test_to, on_change=S.set_test_to, id="tool-test-to",
                                            placeholder="Empty: the tool's own From address", width="100%")),
                ),
                rx.cond(
                    S.test_lines.length() > 0,
                    rx.box(
                        rx.foreach(S.test_lines, lambda line: rx.text(line, size="1", font_family=MONO,
                                                                      overflow_wrap="anywhere")),
                        padding="8px", border_radius="6px", background=rx.color("gray", 3), width="100%",
                        id="tool-test-lines",
                    ),
                ),
                spacing="3", width="100%", margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", id="tool-test-close")),
                rx.button(rx.icon("send", size=16), "Send test", on_click=S.send_test,
                          loading=S.testing.contains(S.test_id), id="tool-test-send"),
                spacing="3", justify="end", margin_top="16px",
            ),
            max_width="520px",
            id="tool-test-dialog",
        ),
        open=S.test_id != 0,
        on_open_change=S.set_test_open,
    )


def _confirmation() -> rx.Component:
    return confirm_dialog(
        is_open=S.confirm_id != 0,
        on_open_change=S.set_confirm_open,
        title="Delete this tool?",
        description=rx.text(
            rx.text.strong(S.confirm_name, word_break="break-all"),
            " and its stored credentials will be removed. A tool that events still use cannot be deleted.",
        ),
        confirm_label="Delete tool",
        on_confirm=S.confirm_delete,
        loading=S.confirming,
        element_id="delete-dialog",
    )


def page() -> rx.Component:
    new_button = editors_only(rx.button(rx.icon("plus", size=16), "New tool", on_click=S.open_create, id="new-tool"))
    return list_page(
        S,
        "Tools",
        new_button,
        rx.fragment(
            rx.callout.root(rx.callout.icon(rx.icon("info")), rx.callout.text(HELP), color_scheme="gray",
                            variant="surface", size="1", width="100%", margin_bottom="16px", id="tools-help"),
            rx.flex(search_box(S, "tools", "Search names"), rx.cond(S.loading, rx.spinner(size="2")),
                    spacing="2", align="center", width="100%", margin_bottom="16px"),
            editor_dialog(), test_dialog(), _confirmation(),
        ),
        paged_table(S, "tools", COLUMNS, _row),
        filtered=S.filtered,
        no_match=empty_state("search-x", "No tools match", "Try other words.", id="tools-empty"),
        empty=empty_state(
            "send",
            "No tools yet — add one",
            "Add a Slack, Discord or Teams channel, a webhook or an email account, then let events "
            "tell you when they fail.",
            editors_only(rx.button(rx.icon("plus", size=16), "Add a tool", on_click=S.open_create)),
            id="tools-empty",
        ),
        loading_label="Loading tools…",
    )
