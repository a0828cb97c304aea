"""Workspaces: the caller's list, a new team workspace, and the token's own
workspace (rename, delete, members). Every other /api/v1 route acts in the
token's workspace; these are how a person manages them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import UserDep
from cronium_app.auth.access import Ability
from cronium_app.bounds import id_path
from cronium_app.db import read_session, write_session
from cronium_app.errors import NotFound
from cronium_app.models import Workspace
from cronium_app.workspaces import service

router = APIRouter(prefix="/api/v1", tags=["workspaces"], responses=errors(401, 403, 404, 422))

MemberId = Annotated[int, id_path("The member's user id")]
RoleName = Literal["owner", "editor", "runner", "viewer"]


class WorkspaceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=service.NAME_MAX)


class MemberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    role: RoleName


class MemberRoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName


@router.get("/workspaces", response_model=replies.WorkspaceList)
def list_workspaces(user: UserDep) -> dict[str, Any]:
    """The workspaces you are a member of, with your role in each."""
    with read_session() as session:
        return {"items": service.workspaces_of(session, user.id)}


@router.post("/workspaces", status_code=201, response_model=replies.Workspace, responses=errors(409, *BODY_ERRORS))
def create_workspace(body: WorkspaceBody, user: UserDep) -> dict[str, Any]:
    """A new team workspace, which you own. Takes a token with the owner
    role (a token scoped down to run or read cannot make workspaces)."""
    user.access.require(Ability.manage, "create workspaces with this token")
    with write_session() as session:
        return service.create_team(session, user.id, body.name)


@router.get("/workspace", response_model=replies.Workspace)
def get_workspace(user: UserDep) -> dict[str, Any]:
    """The workspace this token acts in, with the token's effective role."""
    with read_session() as session:
        workspace = session.get(Workspace, user.access.workspace_id)
        if workspace is None:
            raise NotFound("this token's workspace no longer exists")
        return service.workspace_to_dict(workspace, user.access.role)


@router.patch("/workspace", response_model=replies.Workspace, responses=errors(*BODY_ERRORS))
def rename_workspace(body: WorkspaceBody, user: UserDep) -> dict[str, Any]:
    """Rename the token's team workspace (owners only)."""
    with write_session() as session:
        return service.rename(session, user.access, body.name)


@router.delete("/workspace", status_code=204, responses=errors(409))
def delete_workspace(user: UserDep, confirm: str = Query(max_length=service.NAME_MAX,
                                                         description="The workspace's name, repeated")) -> Response:
    """Delete the token's team workspace and everything in it: events,
    workflows, schedules, variables, servers, tools, webhook triggers, job
    history and the API tokens acting in it (this one too). Owners only;
    refused (409) while any of its jobs runs."""
    with write_session() as session:
        service.delete(session, user.access, confirm)
    return Response(status_code=204)


@router.get("/workspace/members", response_model=replies.MemberList)
def list_members(user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return {"items": service.members(session, user.access)}


@router.post("/workspace/members", status_code=201, response_model=replies.Member,
             responses=errors(409, *BODY_ERRORS))
def add_member(body: MemberBody, user: UserDep) -> dict[str, Any]:
    """Add an existing account to the token's team workspace (owners only)."""
    with write_session() as session:
        return service.add_member(session, user.access, body.email, body.role)


@router.put("/workspace/members/{member_id}", response_model=replies.MemberRoleChanged, responses=errors(409, *BODY_ERRORS))
def set_member_role(member_id: MemberId, body: MemberRoleBody, user: UserDep) -> dict[str, Any]:
    """Change a member's role (owners only; the last owner stays owner).
    Their tokens are capped by the new role from their next request."""
    with write_session() as session:
        return service.set_role(session, user.access, member_id, body.role)


@router.delete("/workspace/members/{member_id}", status_code=204, responses=errors(409))
def remove_member(member_id: MemberId, user: UserDep) -> Response:
    """Remove a member and their tokens for this workspace (owners only)."""
    with write_session() as session:
        service.remove_member(session, user.access, member_id)
    return Response(status_code=204)
