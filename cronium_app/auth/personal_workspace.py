"""Every account's personal workspace: made with the account, owned by its
user, never shared or deleted (team workspaces: cronium_app/workspaces)."""

from __future__ import annotations

from sqlmodel import Session, select

from cronium_app.auth.access import Access
from cronium_app.errors import NotFound
from cronium_app.models import Workspace, WorkspaceMember, WorkspaceRole

PERSONAL_NAME = "Personal"


def personal_slug(user_id: int) -> str:
    # Migration 0015 gives existing accounts the same slug.
    return f"personal-{user_id}"


def create_personal(session: Session, user_id: int) -> Workspace:
    workspace = Workspace(name=PERSONAL_NAME, slug=personal_slug(user_id), personal=True)
    session.add(workspace)
    session.flush()
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user_id, role=WorkspaceRole.owner.value))
    session.flush()
    return workspace


def personal_workspace_id(session: Session, user_id: int) -> int:
    found = session.exec(select(Workspace.id).where(Workspace.slug == personal_slug(user_id))).first()
    if found is None:
        raise NotFound("this account has no personal workspace")
    return found


def personal_access(session: Session, user_id: int) -> Access:
    """The user acting in their own workspace (where they are the owner)."""
    return Access(user_id=user_id, workspace_id=personal_workspace_id(session, user_id), role=WorkspaceRole.owner.value)
