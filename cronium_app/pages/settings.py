"""/settings: the signed-in account, its password, its sessions, its API tokens, and the
instance's history retention."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.dialogs import confirm_dialog
from cronium_app.components.feedback import error_callout, loading_block
from cronium_app.components.forms import labelled, section
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.base import password_form_action
from cronium_app.state.settings import EXPIRY_CHOICES, PASSWORD_FORM, TOKEN_ROLE_CHOICES
from cronium_app.state.settings import SettingsState as S


def account_section() -> rx.Component:
    return section(
        "Account",
        rx.data_list.root(
            rx.data_list.item(
                rx.data_list.label("Email", min_width="64px"),
                rx.data_list.value(rx.text(S.user_email, id="account-email", overflow_wrap="anywhere")),
                align="center",
            ),
            rx.data_list.item(
                rx.data_list.label("Role", min_width="64px"),
                rx.data_list.value(rx.badge(S.user_role, variant="soft", id="account-role")),
                align="center",
            ),
            size="2",
            # A narrow label leaves a phone room for a whole email address;
            # a longer one breaks only where it must.
            orientation="horizontal",
        ),
    )


def _password_input(name: str, label: str, autocomplete: str) -> rx.Component:
    element_id = name.replace("_", "-")
    return labelled(
        label,
        rx.input(
            name=name,
            type="password",
            id=element_id,
            auto_complete=autocomplete,
            max_length=1024,
            width="100%",
        ),
        errors=S.password_errors,
        key=name,
    )


def password_changed_box() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("circle-check", size=16)),
        rx.callout.text("Password changed. Every other browser and device signed in to this account is signed out."),
        color_scheme="green",
        width="100%",
        id="password-changed",
        role="status",
    )


def password_section() -> rx.Component:
    form = rx.form(
        rx.vstack(
            rx.cond(
                S.password_error != "",
                rx.callout.root(
                    rx.callout.icon(rx.icon("circle-alert", size=16)),
                    rx.callout.text(S.password_error),
                    color_scheme="red",
                    size="1",
                    width="100%",
                    id="password-error",
                    role="alert",
                ),
            ),
            _password_input("current_password", "Current password", "current-password"),
            rx.flex(
                _password_input("new_password", "New password", "new-password"),
                _password_input("confirm_password", "Repeat the new password", "new-password"),
                spacing="3",
                width="100%",
                direction=rx.breakpoints(initial="column", sm="row"),
            ),
            rx.button(
                "Change password",
                type="submit",
                loading=S.changing_password,
                id="change-password",
            ),
            spacing="3",
            width="100%",
            align="start",
        ),
        on_submit=S.change_password,
        # A click before the page's scripts run submits the form natively:
        # posted to a harmless address, so no password lands in a URL.
        method="post",
        action=password_form_action(routes.SETTINGS),
        id=PASSWORD_FORM,
        width="100%",
    )
    return section(
        "Password",
        rx.cond(S.password_changed, password_changed_box()),
        form,
        description="At least 8 characters. Changing it signs you out on every other browser and device; "
        "API tokens keep working.",
        id="password-section",
    )


def sessions_section() -> rx.Component:
    return section(
        "Sessions",
        rx.button(
            rx.icon("log-out", size=16),
            "Sign out everywhere",
            variant="soft",
            color_scheme="red",
            on_click=S.set_sign_out_all_open(True),
            id="sign-out-everywhere",
        ),
        description="Lost a laptop, or signed in on a shared computer? End every session of this account at once, "
        "this one too.",
        id="sessions-section",
    )


def sign_out_all_dialog() -> rx.Component:
    return confirm_dialog(
        is_open=S.sign_out_all_open,
        on_open_change=S.set_sign_out_all_open,
        title="Sign out everywhere?",
        description=rx.text(
            "Every browser signed in to this account is signed out at its next click, this one included."
        ),
        options=rx.text(
            rx.checkbox(
                checked=S.revoke_tokens_too,
                on_change=S.set_revoke_tokens_too,
                id="revoke-tokens-too",
                aria_label="Also revoke every API token",
                margin_right="8px",
                vertical_align="middle",
            ),
            "Also revoke every API token: scripts and CI that use them stop working.",
            as_="label",
            size="2",
            display="block",
            margin_top="12px",
        ),
        confirm_label="Sign out everywhere",
        on_confirm=S.sign_out_everywhere,
        loading=S.signing_out_all,
        element_id="sign-out-all-dialog",
        buttons_id="sign-out-all",
    )


def new_token_box() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("key", size=16)),
        rx.vstack(
            rx.text(
                rx.text.strong("Copy your new token “", S.new_token_name, "” now. "),
                "It is shown only this once: Cronium keeps only a digest of it.",
                size="2",
            ),
            rx.flex(
                rx.code(
                    S.new_token,
                    id="new-token",
                    size="2",
                    variant="outline",
                    word_break="break-all",
                    padding="6px 8px",
                    flex="1",
                    min_width="0",
                    font_family=MONO,
                ),
                rx.button(rx.icon("copy", size=14), "Copy", on_click=S.copy_token, id="copy-token", flex_shrink="0"),
                spacing="2",
                align="center",
                width="100%",
                direction=rx.breakpoints(initial="column", sm="row"),
            ),
            rx.text(
                "Send it as ", rx.code("Authorization: Bearer <token>"), ".",
                size="1", color_scheme="gray",
            ),
            rx.button("I have copied it", variant="soft", color_scheme="gray", size="1", on_click=S.dismiss_token,
                      id="dismiss-token"),
            spacing="2",
            width="100%",
            min_width="0",
        ),
        color_scheme="amber",
        width="100%",
        id="new-token-box",
    )


def create_form() -> rx.Component:
    return rx.flex(
        labelled(
            "Name",
            rx.input(
                value=S.token_name,
                on_change=S.set_token_name,
                placeholder="CI deploys",
                max_length=100,
                id="token-name",
                width="100%",
            ),
            flex="2 1 220px",
        ),
        _token_choice("Expires", "token-expiry", EXPIRY_CHOICES, S.expiry, S.set_expiry),
        _token_choice("Role (this workspace)", "token-role", TOKEN_ROLE_CHOICES, S.token_role, S.set_token_role),
        rx.el.label(
            rx.checkbox(checked=S.mcp_only, on_change=S.set_mcp_only, id="token-mcp-only", aria_label="Limit to MCP"),
            rx.text("Limit to MCP", size="2"),
            title="The token may call the MCP endpoint (/api/mcp, for AI apps and `cronium mcp`) and nothing else",
            display="flex", align_items="center", gap="6px", height="32px",
        ),
        rx.button(rx.icon("plus", size=16), "Create token", on_click=S.create, loading=S.creating, id="create-token"),
        spacing="3",
        align="end",
        wrap="wrap",
        width="100%",
    )


def _token_choice(label: str, element_id: str, choices, value, on_change) -> rx.Component:
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(id=element_id, width="100%"),
            rx.select.content(*[rx.select.item(text, value=choice) for choice, text in choices]),
            value=value,
            on_change=on_change,
        ),
        flex="1 1 140px",
    )


def _row(token) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(token["name"], weight="medium", word_break="break-word"),
                rx.code(token["prefix"], variant="ghost", size="1", color_scheme="gray"),
                rx.cond(token["mcp_only"], rx.badge("MCP only", color_scheme="violet", variant="soft",
                                                     custom_attrs={"data-testid": "token-mcp-only"})),
                spacing="1",
            ),
            max_width="240px",
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(token["workspace"], size="2", word_break="break-word"),
                rx.badge(token["role"], variant="soft", custom_attrs={"data-testid": "token-role"}),
                spacing="1",
            ),
            custom_attrs={"data-testid": "token-workspace"},
        ),
        rx.table.cell(rx.text(token["created"], white_space="nowrap", title=token["created_full"]), display=WIDE_CELL),
        rx.table.cell(rx.text(token["last_used"], white_space="nowrap"), display=WIDE_CELL),
        rx.table.cell(
            rx.cond(
                token["expired"],
                rx.badge("expired", color_scheme="red", variant="soft"),
                rx.text(token["expires"], white_space="nowrap"),
            ),
        ),
        rx.table.cell(
            rx.button(
                "Revoke", variant="soft", color_scheme="red", size="1",
                on_click=S.ask_revoke(token["id"], token["name"]),
                custom_attrs={"data-testid": "revoke-token"},
            ),
            text_align="right",
        ),
        align="center",
        custom_attrs={"data-testid": "token-row", "data-token-id": token["id"]},
    )


def tokens_table() -> rx.Component:
    return rx.cond(
        S.token_rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("Workspace and role"),
                    rx.table.column_header_cell("Created", display=WIDE_CELL),
                    rx.table.column_header_cell("Last used", display=WIDE_CELL),
                    rx.table.column_header_cell("Expires"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(S.token_rows, _row)),
            variant="surface",
            width="100%",
            id="tokens-table",
        ),
        rx.text(
            "No API tokens yet. Create one to call the API from scripts or CI.",
            size="2",
            color_scheme="gray",
            id="tokens-empty",
        ),
    )


def revoke_dialog() -> rx.Component:
    return confirm_dialog(
        is_open=S.revoke_id != 0,
        on_open_change=S.set_revoke_open,
        title="Revoke this token?",
        description=rx.text(
            rx.text.strong(S.revoke_name),
            " stops working at once: every request that uses it is refused. This cannot be undone.",
        ),
        confirm_label="Revoke token",
        on_confirm=S.revoke,
        loading=S.revoking,
        element_id="revoke-dialog",
        buttons_id="revoke",
    )


def tokens_section() -> rx.Component:
    return section(
        "API tokens",
        rx.cond(S.new_token != "", new_token_box()),
        create_form(),
        rx.cond(S.name_error != "", rx.text(S.name_error, color_scheme="red", size="1", role="alert", id="error-token-name")),
        rx.cond(
            S.error != "",
            error_callout(S.error, on_retry=S.load),
            rx.cond(S.loaded, tokens_table(), loading_block("Loading tokens…")),
        ),
        description="Tokens let scripts and CI call the API as you. Give each one a name that says where it is used.",
        id="tokens-section",
    )


def history_section() -> rx.Component:
    return section(
        "History and metrics",
        rx.vstack(
            rx.text(S.retention_policy, size="2", id="retention-policy"),
            rx.cond(
                S.retention_rows.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Cleaner pass"),
                        rx.table.column_header_cell("Took"),
                        rx.table.column_header_cell("Deleted"),
                    )),
                    rx.table.body(rx.foreach(S.retention_rows, lambda row: rx.table.row(
                        rx.table.cell(row["finished"], white_space="nowrap"),
                        rx.table.cell(row["duration"], white_space="nowrap"),
                        rx.table.cell(rx.cond(row["error"] != "", rx.text(row["error"], color_scheme="red"),
                                              row["deleted"])),
                    ))),
                    size="1",
                    width="100%",
                    id="retention-passes",
                ),
                rx.text("The cleaner has not run yet.", size="2", color_scheme="gray"),
            ),
            rx.text(
                "Prometheus metrics: ",
                rx.code("/metrics"),
                " on the app and on each worker's metrics port; access and the list of metrics are "
                "in the README's Metrics section.",
                size="2",
                color_scheme="gray",
            ),
            spacing="3",
            width="100%",
        ),
    )


def page() -> rx.Component:
    return app_shell(
        page_header("Settings"),
        rx.vstack(
            account_section(),
            password_section(),
            sessions_section(),
            tokens_section(),
            history_section(),
            revoke_dialog(),
            sign_out_all_dialog(),
            spacing="4",
            width="100%",
            max_width="960px",
        ),
    )
