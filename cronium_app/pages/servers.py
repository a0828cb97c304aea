"""/servers: the SSH servers events can run on: list, create, edit, test
the connection, forget a pinned host key, delete."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.dialogs import confirm_dialog
from cronium_app.components.feedback import empty_state
from cronium_app.components.forms import field_error, invalid_props, labelled, marked_input
from cronium_app.components.list_page import list_page, paged_table, search_box
from cronium_app.components.roles import editors_only
from cronium_app.components.servers import check_summary, fingerprint_text, keep_or
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.servers import ALL_TAGS
from cronium_app.state.servers import ServersState as S

COLUMNS = [("Server", False), ("Auth", True), ("Host key", True), ("Last check", True), ("", False)]
PHONE_ONLY = rx.breakpoints(initial="flex", md="none")

HELP = (
    "The server's sshd must allow this login. The cronium helpers in remote scripts also need "
    "AllowTcpForwarding and AllowStreamLocalForwarding (both on by default). Scripts run as the "
    "login user in a private temporary directory that is removed afterwards."
)


def _help() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("info")),
        rx.callout.text(HELP),
        color_scheme="gray",
        variant="surface",
        size="1",
        width="100%",
        margin_bottom="16px",
        id="servers-help",
    )


def _filters() -> rx.Component:
    return rx.flex(
        search_box(S, "servers", "Search name or host"),
        rx.cond(
            S.all_tags.length() > 0,
            rx.select.root(
                rx.select.trigger(placeholder="Tag", id="servers-tag-filter", aria_label="Tag"),
                rx.select.content(
                    rx.select.item("All tags", value=ALL_TAGS),
                    rx.foreach(S.all_tags, lambda tag: rx.select.item(tag, value=tag)),
                ),
                value=S.tag_filter,
                on_change=S.set_tag_filter,
            ),
        ),
        rx.cond(S.filtered, rx.button("Clear", variant="ghost", color_scheme="gray", on_click=S.clear_filters)),
        rx.cond(S.loading, rx.spinner(size="2")),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
        margin_bottom="16px",
    )


def _tags(row) -> rx.Component:
    return rx.cond(
        row["tags"].length() > 0,
        rx.flex(
            rx.foreach(row["tags"], lambda tag: rx.badge(tag, variant="soft", color_scheme="gray", size="1")),
            spacing="1",
            wrap="wrap",
            custom_attrs={"data-testid": "server-tags"},
        ),
    )


def _server_cell(row) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            rx.text(row["name"], weight="medium", overflow_wrap="anywhere", custom_attrs={"data-testid": "server-name"}),
            rx.code(
                row["address"], variant="ghost", size="1", color_scheme="gray", overflow_wrap="anywhere",
                custom_attrs={"data-testid": "server-address"},
            ),
            _tags(row),
            # On phones the other columns are hidden: their content goes here.
            rx.vstack(
                rx.text(row["auth_label"], size="1", color_scheme="gray"),
                fingerprint_text(row),
                check_summary(row, S.testing),
                spacing="1",
                align="start",
                display=PHONE_ONLY,
                width="100%",
            ),
            spacing="1",
            align="start",
            min_width="0",
        ),
        min_width=rx.breakpoints(initial="0", md="180px"),
        max_width=rx.breakpoints(initial="none", md="260px"),
        vertical_align="top",
    )


def _terminal_action(row) -> rx.Component:
    return rx.cond(
        row["terminal_url"] != "",
        rx.button(
            rx.link(rx.icon("square-terminal", size=14), "Terminal", href=row["terminal_url"],
                    aria_label=f"Open a terminal on {row['name']}"),
            as_child=True, variant="soft", size="1",
            custom_attrs={"data-testid": "open-terminal"},
        ),
    )


def _changes(row) -> rx.Component:
    """Test, edit, forget the host key, delete: editors and owners only."""
    return rx.fragment(
        rx.button(
            rx.icon("plug-zap", size=14), "Test",
            variant="soft", size="1", on_click=S.test_connection(row["id"]),
            disabled=S.testing.contains(row["id"]),
            custom_attrs={"data-testid": "test-server"},
        ),
        rx.icon_button(
            rx.icon("pencil", size=14), variant="soft", color_scheme="gray", size="1",
            on_click=S.open_edit(row["id"]), aria_label="Edit",
            custom_attrs={"data-testid": "edit-server"},
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("ellipsis", size=14), variant="soft", color_scheme="gray", size="1",
                    aria_label="More actions", custom_attrs={"data-testid": "server-menu"},
                ),
            ),
            rx.menu.content(
                rx.menu.item(
                    rx.icon("key-round", size=14), "Forget host key",
                    on_click=S.ask("forget", row["id"]), disabled=row["fingerprint"] == "",
                    custom_attrs={"data-testid": "forget-host-key"},
                ),
                rx.menu.separator(),
                rx.menu.item(
                    rx.icon("trash-2", size=14), "Delete", color="red",
                    on_click=S.ask("delete", row["id"]),
                    custom_attrs={"data-testid": "delete-server"},
                ),
            ),
        ),
    )


def _actions(row) -> rx.Component:
    return rx.flex(
        _terminal_action(row),
        editors_only(_changes(row)),
        spacing="2",
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="end", sm="center"),
        justify="end",
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        _server_cell(row),
        rx.table.cell(rx.text(row["auth_label"], size="2", white_space="nowrap"), display=WIDE_CELL,
                      vertical_align="top"),
        rx.table.cell(fingerprint_text(row, max_width="24ch"), display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(check_summary(row, S.testing), display=WIDE_CELL, vertical_align="top", max_width="260px"),
        rx.table.cell(_actions(row), vertical_align="top"),
        custom_attrs={"data-testid": "server-row", "data-server-id": row["id"], "data-name": row["name"]},
    )


# -- the create / edit dialog -----------------------------------------------------


def _input(value, on_change, element_id: str, key: str, *, attrs: dict | None = None, **props) -> rx.Component:
    return marked_input(S.errors, key, attrs=attrs, value=value, on_change=on_change, id=element_id, **props)


def _secret_field(label: str, value, on_change, key: str, kept: str, fresh: str, hint=None) -> rx.Component:
    """A password-type field; on edit, left empty it keeps the stored value."""
    control = _input(
        value, on_change, f"server-{key}", key, type="password", placeholder=keep_or(S.keeps_credentials, kept, fresh),
        # Never offer the browser's saved sign-in password here.
        attrs={"autoComplete": "new-password"},
    )
    return labelled(label, control, errors=S.errors, key=key, hint=hint)


def _key_fields() -> rx.Component:
    return rx.vstack(
        labelled(
            "Private key",
            rx.text_area(
                value=S.private_key, on_change=S.set_private_key, rows="6", font_family=MONO, font_size="12px",
                placeholder=keep_or(
                    S.keeps_credentials, "Leave empty to keep the stored key",
                    "-----BEGIN OPENSSH PRIVATE KEY-----",
                ),
                spellcheck=False, id="server-private-key", width="100%", **invalid_props(S.errors, "privateKey"),
            ),
            errors=S.errors, key="privateKey",
            hint="OpenSSH or PEM format. It is stored encrypted and never shown again.",
        ),
        _secret_field(
            "Passphrase", S.passphrase, S.set_passphrase, "passphrase",
            "Empty keeps the stored passphrase", "Only if the key is encrypted",
        ),
        spacing="4",
        width="100%",
    )


def _password_field() -> rx.Component:
    return _secret_field(
        "Password", S.password, S.set_password, "password", "Empty keeps the stored password", "",
        hint="Stored encrypted and never shown again. A key is safer where the server allows one.",
    )


def editor_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id != 0, "Edit server", "New server")),
            rx.dialog.description(
                "Events can run their scripts on this server over SSH.", size="2", color_scheme="gray"
            ),
            rx.vstack(
                labelled(
                    "Name",
                    _input(S.name, S.set_name, "server-name", "name", placeholder="web-1"),
                    errors=S.errors, key="name",
                ),
                rx.flex(
                    labelled(
                        "Host",
                        _input(S.host, S.set_host, "server-host", "host", placeholder="web1.example.com"),
                        errors=S.errors, key="host", flex="1", min_width="0",
                    ),
                    labelled(
                        "Port",
                        _input(S.port, S.set_port, "server-port", "port", input_mode="numeric"),
                        errors=S.errors, key="port", max_width="96px", flex_shrink="0",
                    ),
                    spacing="3",
                    width="100%",
                ),
                labelled(
                    "Username",
                    _input(S.username, S.set_username, "server-username", "username", placeholder="deploy"),
                    errors=S.errors, key="username", hint="Scripts run as this user.",
                ),
                labelled(
                    "Sign in with",
                    rx.segmented_control.root(
                        rx.segmented_control.item("Private key", value="key"),
                        rx.segmented_control.item("Password", value="password"),
                        value=S.auth_type,
                        on_change=S.set_auth_type,
                        id="server-auth-type",
                    ),
                    errors=S.errors, key="authType",
                ),
                rx.cond(S.auth_type == "key", _key_fields(), _password_field()),
                labelled(
                    "Host key",
                    rx.text_area(
                        value=S.host_key, on_change=S.set_host_key, rows="3", font_family=MONO, font_size="12px",
                        placeholder="ssh-ed25519 AAAA… (pinned on first connection if empty)",
                        spellcheck=False, id="server-host-key", width="100%", **invalid_props(S.errors, "hostKey"),
                    ),
                    errors=S.errors, key="hostKey",
                    hint="The server's public host key (ssh-keyscan shows it). If empty, the key the server "
                    "shows on the first successful connection is pinned; a different key later is refused.",
                ),
                labelled(
                    "Tags",
                    _input(S.tags_text, S.set_tags_text, "server-tags", "tags", placeholder="web, eu-west"),
                    errors=S.errors, key="tags",
                    hint="Comma separated. An event can target every server with a tag.",
                ),
                field_error(S.errors, "form"),
                spacing="4",
                width="100%",
                margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="server-cancel")),
                rx.button(rx.icon("save", size=16), "Save", on_click=S.save, loading=S.saving, id="server-save"),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="600px",
            id="server-dialog",
        ),
        open=S.editor_open,
        on_open_change=S.set_editor_open,
    )


def _confirmations() -> rx.Component:
    return rx.fragment(
        confirm_dialog(
            is_open=S.confirm_action == "delete",
            on_open_change=S.set_confirm_open,
            title="Delete this server?",
            description=rx.text(
                rx.text.strong(S.confirm_name, word_break="break-all"),
                " and its stored credentials will be removed. Events that target it no longer run on it "
                "(it is taken off their server lists).",
            ),
            confirm_label="Delete server",
            on_confirm=S.confirm,
            loading=S.confirming,
            element_id="delete-dialog",
            max_width="460px",
        ),
        confirm_dialog(
            is_open=S.confirm_action == "forget",
            on_open_change=S.set_confirm_open,
            title="Forget the pinned host key?",
            description=rx.text(
                "Do this only when ", rx.text.strong(S.confirm_name, word_break="break-all"),
                " was reinstalled or its host key was changed on purpose. The next connection pins whatever "
                "key the server shows, so if you did not expect a change, someone may be in between: find out "
                "why before you forget the key.",
            ),
            confirm_label="Forget host key",
            on_confirm=S.confirm,
            loading=S.confirming,
            element_id="forget-dialog",
            color_scheme="orange",
            max_width="460px",
        ),
    )


def page() -> rx.Component:
    new_button = editors_only(
        rx.button(rx.icon("plus", size=16), "New server", on_click=S.open_create, id="new-server")
    )
    return list_page(
        S,
        "Servers",
        new_button,
        rx.fragment(_help(), _filters(), editor_dialog(), _confirmations()),
        paged_table(S, "servers", COLUMNS, _row),
        filtered=S.filtered,
        no_match=empty_state(
            "search-x",
            "No servers match",
            "Try other words, or clear the filters.",
            rx.button("Clear filters", variant="soft", on_click=S.clear_filters),
            id="servers-empty",
        ),
        empty=empty_state(
            "server",
            "No servers yet — add one",
            "Events run in a local container unless they target servers: then their script runs on "
            "each of them over SSH, all at once.",
            editors_only(rx.button(rx.icon("plus", size=16), "Add a server", on_click=S.open_create)),
            id="servers-empty",
        ),
        loading_label="Loading servers…",
    )
