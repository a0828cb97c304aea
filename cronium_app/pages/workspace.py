"""/workspace: the current workspace's members and roles, rename and delete
(owners), and a new team workspace."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.forms import labelled, section
from cronium_app.components.layout import app_shell, page_header
from cronium_app.state.workspace import ROLE_CHOICES
from cronium_app.state.workspace import WorkspaceState as S

DELETE_TEXT = (
    "Deleting the workspace deletes everything in it: its events, workflows, schedules, variables, servers, "
    "tools, webhook triggers, job history and the API tokens acting in it. It is refused while one of its "
    "jobs runs. Type the workspace's name to confirm."
)


def _role_select(value, on_change, **trigger_props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(**trigger_props),
        rx.select.content(*[rx.select.item(role, value=role) for role in ROLE_CHOICES]),
        value=value,
        on_change=on_change,
        size="2",
    )


def _field_with_button(label: str, control: rx.Component, button: rx.Component) -> rx.Component:
    """A labelled field and the button that acts on it, side by side (the
    button wraps under the field on a phone)."""
    return rx.flex(
        labelled(label, control, flex="1 1 200px"),
        button,
        spacing="2", align="end", wrap="wrap", width="100%",
    )


def _member_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["email"], overflow_wrap="anywhere"), min_width="0"),
        rx.table.cell(
            rx.cond(
                S.can_manage & ~S.workspace_personal,
                _role_select(
                    row["role"], lambda role: S.change_role(row["user_id"], role),
                    # Each row's select is named by whose role it sets.
                    custom_attrs={"aria-label": f"Role of {row['email']}"},
                ),
                rx.badge(row["role"], variant="soft"),
            ),
        ),
        rx.table.cell(
            rx.cond(
                S.can_manage & ~S.workspace_personal,
                rx.icon_button(rx.icon("user-minus", size=16), variant="soft", color_scheme="red", size="2",
                               on_click=S.remove_member(row["user_id"]),
                               aria_label=f"Remove {row['email']}"),
            ),
        ),
    )


def members_section() -> rx.Component:
    return section(
        "Members",
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Email"), rx.table.column_header_cell("Role"),
                rx.table.column_header_cell(""),
            )),
            rx.table.body(rx.foreach(S.members, _member_row)),
            width="100%",
            id="members",
        ),
        rx.cond(
            S.can_manage & ~S.workspace_personal,
            rx.flex(
                labelled(
                    "Email of the person to add",
                    rx.input(placeholder="person@example.com", value=S.member_email, on_change=S.set_member_email,
                             id="member-email", max_length=320, width="100%"),
                    flex="2 1 200px",
                ),
                labelled("Their role", _role_select(S.member_role, S.set_member_role, id="member-role"),
                         flex="0 1 140px"),
                rx.button("Add member", on_click=S.add_member, id="add-member"),
                spacing="2", align="end", wrap="wrap", width="100%",
            ),
        ),
        description=rx.cond(
            S.workspace_personal,
            "Your personal workspace is yours alone. Create a team workspace to share events with others.",
            "Owners manage members, editors change definitions, runners run and cancel, viewers read.",
        ),
    )


def owner_sections() -> rx.Component:
    return rx.cond(
        S.can_manage & ~S.workspace_personal,
        rx.vstack(
            section(
                "Name",
                _field_with_button(
                    "Workspace name",
                    rx.input(value=S.rename_to, on_change=S.set_rename_to, id="rename-to", width="100%"),
                    rx.button("Rename", on_click=S.rename, id="rename"),
                ),
            ),
            section(
                "Delete this workspace",
                _field_with_button(
                    "The workspace's name, to confirm",
                    rx.input(value=S.delete_confirm, on_change=S.set_delete_confirm, placeholder=S.workspace_name,
                             id="delete-confirm", width="100%"),
                    rx.button("Delete workspace", color_scheme="red", on_click=S.delete_workspace, id="delete-workspace",
                              disabled=S.delete_confirm != S.workspace_name),
                ),
                description=DELETE_TEXT,
            ),
            spacing="4", width="100%",
        ),
    )


def new_workspace_section() -> rx.Component:
    return section(
        "New team workspace",
        _field_with_button(
            "Name of the new workspace",
            rx.input(value=S.new_name, on_change=S.set_new_name, placeholder="Team name", id="new-workspace-name",
                     width="100%"),
            rx.button("Create", on_click=S.create_workspace, id="create-workspace"),
        ),
        description="You will be its owner; add members once it exists.",
    )


def page() -> rx.Component:
    return app_shell(
        page_header(S.workspace_name, subtitle=rx.text("Your role: ", rx.badge(S.workspace_role, variant="soft"))),
        rx.vstack(members_section(), owner_sections(), new_workspace_section(), spacing="4", width="100%"),
    )
