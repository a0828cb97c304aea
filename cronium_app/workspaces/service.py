"""Team workspaces (create, rename, delete), members and their roles
(personal workspaces: auth/personal_workspace.py).

A workspace always has an owner: the last owner can be neither removed nor
demoted. A personal workspace has exactly one member, its user, and is
never renamed away from them, shared or deleted.

Deleting a team workspace deletes everything in it, in the same
transaction (the foreign keys cascade): its events, workflows, schedules,
variables, servers, tools, webhook triggers, job history and runs, and the
API tokens that act in it. It is refused while any of its jobs is held by a
worker (cancel them first); its waiting jobs are deleted with it."""

from __future__ import annotations

import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import RANK, Ability, Access, check_role
from cronium_app.errors import Conflict, Forbidden, Invalid, NotFound
from cronium_app.jobs.status import HELD
from cronium_app.models import ApiToken, Job, User, Workspace, WorkspaceMember, WorkspaceRole
from cronium_app.timeutil import isoformat

NAME_MAX = 100
# A user is a member of at most this many workspaces (the switcher lists them all).
MAX_WORKSPACES_PER_USER = 100
MAX_MEMBERS = 500


def workspaces_of(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The workspaces the user is a member of, personal first, with their role."""
    rows = session.exec(
        select(Workspace, WorkspaceMember.role)
        .join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .where(WorkspaceMember.user_id == user_id)
        .order_by(Workspace.personal.desc(), Workspace.name, Workspace.id)
    ).all()
    return [workspace_to_dict(workspace, role) for workspace, role in rows]


def workspace_to_dict(workspace: Workspace, role: str) -> dict[str, Any]:
    return {"id": workspace.id, "name": workspace.name, "slug": workspace.slug, "personal": workspace.personal,
            "role": role, "createdAt": isoformat(workspace.created_at)}


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid(f"a workspace name has 1 to {NAME_MAX} characters", field="name")
    return name


def _slug_for(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "team"
    return f"{base}-{secrets.token_hex(3)}"


def create_team(session: Session, user_id: int, name: str) -> dict[str, Any]:
    """A new team workspace; its creator is its owner."""
    name = check_name(name)
    count = session.exec(select(sa.func.count()).select_from(WorkspaceMember).where(WorkspaceMember.user_id == user_id)).one()
    if count >= MAX_WORKSPACES_PER_USER:
        raise Conflict(f"you are a member of {count} workspaces, the most allowed: leave or delete some first")
    workspace = Workspace(name=name, slug=_slug_for(name), personal=False)
    session.add(workspace)
    session.flush()
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user_id, role=WorkspaceRole.owner.value))
    session.flush()
    audit.record(session, audit.Action.workspace_create, _target(workspace), workspace_id=workspace.id,
                 details={"name": workspace.name})
    return workspace_to_dict(workspace, WorkspaceRole.owner.value)


def _target(workspace: Workspace) -> audit.Target:
    return audit.Target("workspace", workspace.id, workspace.name)


def _member_target(session: Session, member: WorkspaceMember) -> audit.Target:
    email = session.exec(select(User.email).where(User.id == member.user_id)).first()
    return audit.Target("member", member.user_id, email)


def _team_workspace(session: Session, access: Access, what: str) -> Workspace:
    access.require(Ability.manage, what)
    workspace = session.get(Workspace, access.workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {access.workspace_id} not found")
    if workspace.personal:
        raise Forbidden(f"a personal workspace cannot {what.removesuffix(' this workspace')}: create a team workspace")
    return workspace


def rename(session: Session, access: Access, name: str) -> dict[str, Any]:
    access.require(Ability.manage, "rename this workspace")
    workspace = session.get(Workspace, access.workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {access.workspace_id} not found")
    if workspace.personal:
        raise Forbidden("a personal workspace keeps its name")
    before = workspace.name
    workspace.name = check_name(name)
    session.add(workspace)
    session.flush()
    audit.record(session, audit.Action.workspace_update, _target(workspace), workspace_id=workspace.id,
                 before={"name": before}, after={"name": workspace.name})
    return workspace_to_dict(workspace, access.role)


def delete(session: Session, access: Access, confirm_name: str) -> None:
    """Delete a team workspace and everything in it (see the module's
    docstring); `confirm_name` must repeat its name."""
    workspace = _team_workspace(session, access, "delete this workspace")
    if (confirm_name or "").strip() != workspace.name:
        raise Invalid("type the workspace's name to confirm that it and everything in it is deleted", field="confirm")
    held = session.exec(
        select(sa.func.count()).select_from(Job).where(Job.workspace_id == workspace.id, Job.status.in_(HELD))
    ).one()
    if held:
        raise Conflict(f"{held} job(s) of this workspace are running: cancel them, then delete the workspace")
    audit.record(session, audit.Action.workspace_delete, _target(workspace), workspace_id=workspace.id)
    session.execute(sa.delete(Workspace).where(Workspace.id == workspace.id))
    session.flush()


def members(session: Session, access: Access) -> list[dict[str, Any]]:
    rows = session.exec(
        select(WorkspaceMember, User.email)
        .join(User, User.id == WorkspaceMember.user_id)
        .where(WorkspaceMember.workspace_id == access.workspace_id)
        .order_by(User.email)
    ).all()
    return [{"userId": m.user_id, "email": email, "role": m.role, "addedAt": isoformat(m.created_at)} for m, email in rows]


def _check_role_name(role: str) -> str:
    try:
        return check_role(role)
    except ValueError:
        raise Invalid(f"role must be one of {', '.join(RANK)}", field="role") from None


def add_member(session: Session, access: Access, email: str, role: str) -> dict[str, Any]:
    _team_workspace(session, access, "add members to this workspace")
    role = _check_role_name(role)
    user = session.exec(select(User).where(User.email == (email or "").strip().lower())).first()
    if user is None:
        raise NotFound("no account has this email: the person signs up first", field="email")
    if _membership(session, access.workspace_id, user.id) is not None:
        raise Conflict(f"{user.email} is a member already", field="email")
    count = session.exec(select(sa.func.count()).select_from(WorkspaceMember)
                         .where(WorkspaceMember.workspace_id == access.workspace_id)).one()
    if count >= MAX_MEMBERS:
        raise Conflict(f"this workspace has {count} members, the most allowed")
    member = WorkspaceMember(workspace_id=access.workspace_id, user_id=user.id, role=role)
    session.add(member)
    session.flush()
    audit.record(session, audit.Action.member_add, audit.Target("member", user.id, user.email),
                 workspace_id=access.workspace_id, after={"role": role})
    return {"userId": user.id, "email": user.email, "role": role, "addedAt": isoformat(member.created_at)}


def _membership(session: Session, workspace_id: int, user_id: int) -> WorkspaceMember | None:
    return session.exec(select(WorkspaceMember).where(
        WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id)).first()


def _member(session: Session, access: Access, user_id: int) -> WorkspaceMember:
    member = _membership(session, access.workspace_id, user_id)
    if member is None:
        raise NotFound(f"user {user_id} is not a member of this workspace")
    return member


def _keep_an_owner(session: Session, member: WorkspaceMember) -> None:
    """Refuse to take away the workspace's last owner. Locks the owners'
    rows on PostgreSQL so that two owners demoting each other at once cannot
    both pass."""
    if member.role != WorkspaceRole.owner.value:
        return
    owners = session.exec(
        select(WorkspaceMember.id).where(WorkspaceMember.workspace_id == member.workspace_id,
                                         WorkspaceMember.role == WorkspaceRole.owner.value).with_for_update()
    ).all()
    if len(owners) <= 1:
        raise Conflict("a workspace keeps at least one owner: make someone else owner first")


def set_role(session: Session, access: Access, user_id: int, role: str) -> dict[str, Any]:
    _team_workspace(session, access, "change roles in this workspace")
    role = _check_role_name(role)
    member = _member(session, access, user_id)
    if role != WorkspaceRole.owner.value:
        _keep_an_owner(session, member)
    audit.record(session, audit.Action.member_update, _member_target(session, member),
                 workspace_id=access.workspace_id, before={"role": member.role}, after={"role": role})
    member.role = role
    session.add(member)
    session.flush()
    return {"userId": member.user_id, "role": role}


def remove_member(session: Session, access: Access, user_id: int) -> None:
    """The member goes, and with them their API tokens for this workspace."""
    _team_workspace(session, access, "remove members from this workspace")
    member = _member(session, access, user_id)
    _keep_an_owner(session, member)
    audit.record(session, audit.Action.member_remove, _member_target(session, member),
                 workspace_id=access.workspace_id, before={"role": member.role})
    session.delete(member)
    session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user_id, ApiToken.workspace_id == access.workspace_id))
    session.flush()


def choose(session: Session, user_id: int, wanted: int) -> tuple[Access, list[dict[str, Any]]]:
    """The web UI's workspace for a tab: `wanted` if the user is a member of
    it, else their personal workspace (a member who was removed lands back
    home). Also every workspace they may switch to."""
    listed = workspaces_of(session, user_id)
    chosen = next((w for w in listed if w["id"] == wanted), None)
    if chosen is None:
        chosen = next((w for w in listed if w["personal"]), None)
    if chosen is None:
        raise NotFound("this account has no workspace")
    return Access(user_id=user_id, workspace_id=chosen["id"], role=chosen["role"]), listed
