"""/users: the server's accounts, for its administrators: search, role,
status, created and last sign-in; invite by link (and by email through one
of the admin's email tools), disable and enable, make admin, password-reset
links; the invitations not used yet."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.dialogs import confirm_dialog
from cronium_app.components.feedback import empty_state, error_callout, forbidden_notice, loading_block
from cronium_app.components.forms import labelled
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.list_page import paged_table, search_box
from cronium_app.components.styles import MONO, WIDE_CELL
from cronium_app.state.users import NO_EMAIL, UsersState as S

PHONE_ONLY = rx.breakpoints(initial="flex", md="none")
COLUMNS = [("Account", False), ("Role", True), ("Status", False), ("Sign-in", True), ("Created", True),
           ("Last sign-in", True), ("", False)]


def _muted(text, **props) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray", **props)


def role_badge(role) -> rx.Component:
    return rx.badge(
        rx.cond(role == "admin", "Admin", "User"),
        color_scheme=rx.cond(role == "admin", "violet", "gray"),
        variant="soft",
        custom_attrs={"data-testid": "user-role", "data-role": role},
    )


def status_badge(status) -> rx.Component:
    return rx.badge(
        rx.cond(status == "active", "Active", "Disabled"),
        color_scheme=rx.cond(status == "active", "green", "red"),
        variant="soft",
        radius="full",
        custom_attrs={"data-testid": "user-status", "data-status": status},
    )


def _account_cell(row) -> rx.Component:
    return rx.table.cell(
        rx.vstack(
            rx.hstack(
                rx.text(row["email"], weight="medium", size="2", overflow_wrap="anywhere",
                        custom_attrs={"data-testid": "user-email"}),
                rx.cond(row["is_me"], rx.badge("You", variant="outline", size="1")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            # On phones the wide-only columns are hidden: their content goes here.
            rx.vstack(
                role_badge(row["role"]),
                _muted("Signs in with: " + row["sign_in"]),
                _muted("Last sign-in: " + row["last_sign_in"], title=row["last_sign_in_full"]),
                spacing="1",
                display=PHONE_ONLY,
            ),
            spacing="1",
            align="start",
            min_width="0",
        ),
        vertical_align="top",
    )


def _actions(row) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(rx.icon("ellipsis", size=16), variant="ghost", color_scheme="gray",
                           aria_label="Actions for " + row["email"], disabled=S.busy,
                           custom_attrs={"data-testid": "user-actions"}),
        ),
        rx.menu.content(
            rx.cond(
                row["role"] == "admin",
                rx.menu.item("Make user", on_click=S.set_role(row["id"], "user"),
                             custom_attrs={"data-testid": "make-user"}),
                rx.menu.item("Make admin", on_click=S.set_role(row["id"], "admin"),
                             custom_attrs={"data-testid": "make-admin"}),
            ),
            rx.menu.item("Password reset link", on_click=S.reset_link(row["id"]), disabled=row["status"] != "active",
                         custom_attrs={"data-testid": "reset-link"}),
            rx.menu.separator(),
            rx.cond(
                row["status"] == "active",
                rx.menu.item("Disable", color="red", on_click=S.ask(row["id"], row["email"], "disable"),
                             disabled=row["is_me"], custom_attrs={"data-testid": "disable-user"}),
                rx.menu.item("Enable", on_click=S.ask(row["id"], row["email"], "enable"),
                             custom_attrs={"data-testid": "enable-user"}),
            ),
        ),
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        _account_cell(row),
        rx.table.cell(role_badge(row["role"]), display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(status_badge(row["status"]), vertical_align="top"),
        rx.table.cell(rx.text(row["sign_in"], size="2", white_space="nowrap",
                              custom_attrs={"data-testid": "user-sign-in"}),
                      display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(rx.text(row["created"], size="2", white_space="nowrap", title=row["created_full"]),
                      display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(rx.text(row["last_sign_in"], size="2", white_space="nowrap", title=row["last_sign_in_full"],
                              custom_attrs={"data-testid": "user-last-sign-in"}),
                      display=WIDE_CELL, vertical_align="top"),
        rx.table.cell(_actions(row), vertical_align="top", text_align="right"),
        custom_attrs={"data-testid": "user-row", "data-user-id": row["id"], "data-email": row["email"]},
    )


def _invitation(row) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.text(row["email"], size="2", weight="medium", overflow_wrap="anywhere"),
            rx.hstack(
                role_badge(row["role"]),
                rx.badge(row["status"], variant="soft", radius="full",
                         color_scheme=rx.match(row["status"], ("pending", "blue"), ("expired", "amber"), "gray"),
                         custom_attrs={"data-testid": "invitation-status"}),
                _muted("Expires " + row["expires"], title=row["expires_full"]),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="1",
            min_width="0",
        ),
        rx.cond(
            row["status"] == "pending",
            rx.button("Withdraw", size="1", variant="soft", color_scheme="gray", on_click=S.withdraw(row["id"]),
                      disabled=S.busy, custom_attrs={"data-testid": "withdraw-invitation"}),
        ),
        justify="between",
        align="center",
        gap="3",
        width="100%",
        padding_y="8px",
        border_bottom="1px solid var(--gray-a4)",
        custom_attrs={"data-testid": "invitation-row", "data-email": row["email"]},
    )


def _invitations() -> rx.Component:
    return rx.cond(
        S.invitations.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading("Invitations not used yet", size="3"),
                rx.foreach(S.invitations, _invitation),
                spacing="1",
                width="100%",
            ),
            width="100%",
            id="invitations",
        ),
    )


def _invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Invite someone"),
            rx.dialog.description(
                "They get a link that works once, to set a password and sign in.", size="2", color_scheme="gray",
            ),
            rx.vstack(
                rx.cond(S.invite_error != "",
                        rx.callout.root(rx.callout.icon(rx.icon("circle-alert")), rx.callout.text(S.invite_error),
                                        color_scheme="red", size="1", id="invite-error", role="alert")),
                labelled("Email", rx.input(value=S.invite_email, on_change=S.set_invite_email, type="email",
                                           id="invite-email", placeholder="name@example.com", width="100%",
                                           max_length=320)),
                labelled("Role on this server", rx.select.root(
                    rx.select.trigger(id="invite-role", width="100%"),
                    rx.select.content(rx.select.item("User", value="user"), rx.select.item("Admin", value="admin")),
                    value=S.invite_role, on_change=S.set_invite_role,
                )),
                labelled("Send by email", rx.select.root(
                    rx.select.trigger(id="invite-tool", width="100%"),
                    rx.select.content(
                        rx.select.item("No: I will send the link", value=NO_EMAIL),
                        rx.foreach(S.email_tools, lambda tool: rx.select.item("Through " + tool["name"],
                                                                              value=tool["id"])),
                    ),
                    value=S.invite_tool, on_change=S.set_invite_tool,
                )),
                rx.cond(S.email_tools.length() == 0,
                        _muted("Add an email tool on the Tools page to send invitations by email.")),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="invite-cancel")),
                    rx.button("Create invitation", on_click=S.invite, loading=S.busy, id="invite-submit"),
                    spacing="3",
                    justify="end",
                    margin_top="8px",
                    width="100%",
                ),
                spacing="2",
                width="100%",
                margin_top="12px",
            ),
            max_width="460px",
            id="invite-dialog",
        ),
        open=S.invite_open,
        on_open_change=S.set_invite_open,
    )


def _link_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.link_title, overflow_wrap="anywhere"),
            rx.vstack(
                rx.text_area(value=S.link_url, read_only=True, id="made-link", font_family=MONO, rows="3",
                             width="100%", on_focus=rx.call_script("document.getElementById('made-link').select()")),
                rx.text(S.link_note, size="2", color_scheme="gray", id="made-link-note"),
                rx.flex(
                    rx.button(rx.icon("copy", size=16), "Copy", variant="soft",
                              on_click=[rx.set_clipboard(S.link_url), rx.toast.success("Link copied.")],
                              id="copy-link"),
                    rx.dialog.close(rx.button("Done", id="link-done")),
                    spacing="3",
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
                margin_top="12px",
            ),
            max_width="520px",
            id="link-dialog",
        ),
        open=S.link_url != "",
        on_open_change=S.close_link,
    )


def _confirm() -> rx.Component:
    disabling = S.confirm_action == "disable"
    return confirm_dialog(
        is_open=S.confirm_id != 0,
        on_open_change=S.set_confirm_open,
        title=rx.cond(disabling, "Disable " + S.confirm_email + "?", "Enable " + S.confirm_email + "?"),
        description=rx.cond(
            disabling,
            "They are signed out everywhere at once, their API tokens are deleted, and their schedules stop "
            "firing until the account is enabled again. Their events, jobs and data are kept.",
            "They can sign in again with their password. Their schedules fire again from their next time; "
            "their old API tokens stay deleted.",
        ),
        confirm_label=rx.cond(disabling, "Disable", "Enable"),
        color_scheme=rx.cond(disabling, "red", "green"),
        on_confirm=S.confirm,
        loading=S.busy,
        element_id="confirm-user",
    )


def page() -> rx.Component:
    invite_button = rx.cond(
        S.forbidden, rx.fragment(),
        rx.button(rx.icon("user-plus", size=16), "Invite", on_click=S.open_invite, id="open-invite"),
    )
    return app_shell(
        page_header("Users", invite_button,
                    subtitle=rx.cond(S.forbidden, "", "Everyone with an account on this server.")),
        rx.cond(
            S.forbidden,
            forbidden_notice("Only administrators see the accounts of this server.", "users-forbidden"),
            rx.fragment(
                search_box(S, "users", "Search by email"),
                rx.cond(S.error != "", error_callout(S.error, on_retry=S.load)),
                rx.cond(
                    S.loaded,
                    rx.cond(
                        S.total > 0,
                        paged_table(S, "users", COLUMNS, _row),
                        empty_state("search-x", "No account matches", "Try another part of the email.",
                                    id="users-empty"),
                    ),
                    rx.cond(S.error == "", loading_block("Loading accounts…")),
                ),
                _invitations(),
                _invite_dialog(),
                _link_dialog(),
                _confirm(),
            ),
        ),
    )
