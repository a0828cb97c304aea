"""/api/v1/users: the server's accounts, for its administrators: list,
invite, disable and enable, the instance role, password-reset links."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import AdminDep, SettingsDep
from cronium_app.auth import admin, invitations, resets
from cronium_app.bounds import id_path, offset_query
from cronium_app.db import read_session, write_session
from cronium_app.tools import invitation_email

router = APIRouter(prefix="/api/v1/users", tags=["users"], responses=errors(401, 403))

UserId = Annotated[int, id_path("The user's id")]
InvitationId = Annotated[int, id_path("The invitation's id")]


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    email: str = Field(min_length=3, max_length=320)
    role: Literal["admin", "user"] = "user"
    email_tool_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, alias="emailToolId",
        description="One of your email tools: the link is also sent to the invited address through it",
    )


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "user"]


@router.get("", response_model=replies.OffsetPage[replies.AdminUser])
def list_users(
    caller: AdminDep,
    q: Annotated[str, Query(max_length=320, description="Only emails containing this")] = "",
    limit: Annotated[int, Query(ge=1, le=admin.MAX_PAGE)] = 50,
    offset: int = offset_query(),
) -> dict[str, Any]:
    """Every account, oldest first: role, status (active or disabled),
    created, last sign-in."""
    with read_session() as session:
        return admin.list_users(session, caller.id, q=q, offset=offset, limit=limit).to_dict()


@router.get("/invitations", response_model=replies.ItemsPage[replies.Invitation])
def list_invitations(caller: AdminDep) -> dict[str, Any]:
    """Invitations not used yet (pending, expired or withdrawn), newest first."""
    with read_session() as session:
        items = invitations.list_invitations(session, caller.id)
    return {"items": items, "limit": invitations.MAX_LISTED, "offset": 0}


@router.post("/invitations", status_code=201, response_model=replies.NewInvitation,
             responses=errors(404, 409, *BODY_ERRORS))
async def invite(body: InviteBody, caller: AdminDep, settings: SettingsDep) -> dict[str, Any]:
    """Invite an email address with an instance role. The reply holds the
    single-use link (only its hash is kept), valid CRONIUM_INVITE_TTL (7 days
    by default); with `emailToolId` it is also emailed through that tool.
    A new invitation for the same address withdraws the older ones."""
    return await invitation_email.invite(settings, caller.id, body.email, body.role, email_tool_id=body.email_tool_id)


@router.delete("/invitations/{invitation_id}", response_model=replies.Invitation, responses=errors(404, 409, 422))
def revoke_invitation(invitation_id: InvitationId, caller: AdminDep) -> dict[str, Any]:
    """Withdraw an invitation: its link stops working."""
    with write_session() as session:
        return invitations.revoke_invitation(session, caller.id, invitation_id)


@router.get("/{user_id}", response_model=replies.AdminUserReply, responses=errors(404, 422))
def get_user(user_id: UserId, caller: AdminDep) -> dict[str, Any]:
    with read_session() as session:
        return {"user": admin.get_user(session, caller.id, user_id)}


@router.post("/{user_id}/disable", response_model=replies.AdminUserReply, responses=errors(404, 409, 422))
def disable_user(user_id: UserId, caller: AdminDep) -> dict[str, Any]:
    """Disable the account: it cannot sign in, its web sessions end and its
    API tokens are deleted at once, and its schedules stop firing (fire times
    that pass while it is disabled are skipped). Never the last enabled
    administrator, nor yourself."""
    with write_session() as session:
        return {"user": admin.disable_user(session, caller.id, user_id)}


@router.post("/{user_id}/enable", response_model=replies.AdminUserReply, responses=errors(404, 422))
def enable_user(user_id: UserId, caller: AdminDep) -> dict[str, Any]:
    """Let a disabled account sign in again (its schedules fire again from their next time)."""
    with write_session() as session:
        return {"user": admin.enable_user(session, caller.id, user_id)}


@router.put("/{user_id}/role", response_model=replies.AdminUserReply, responses=errors(404, 409, *BODY_ERRORS))
def set_role(user_id: UserId, body: RoleBody, caller: AdminDep) -> dict[str, Any]:
    """Make the account an administrator of the server (`admin`) or not
    (`user`). The last enabled administrator cannot be demoted."""
    with write_session() as session:
        return {"user": admin.set_role(session, caller.id, user_id, body.role)}


@router.post("/{user_id}/reset-link", status_code=201, response_model=replies.NewReset,
             responses=errors(404, 409, 422))
def create_reset_link(user_id: UserId, caller: AdminDep, settings: SettingsDep) -> dict[str, Any]:
    """A single-use link that sets a new password for the account, valid
    CRONIUM_RESET_TTL (one hour by default); using it ends every session of
    the account. A new link withdraws the older ones."""
    with write_session() as session:
        reset, url = resets.create_reset(session, settings, caller.id, user_id)
    return {**reset, "url": url}
