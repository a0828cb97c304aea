"""Tools: CRUD, the "test" action, and previews of templates. Credentials
go in; they never come back out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1.common import MAX_PAGE, SettingsDep, UserDep
from cronium_app.bounds import id_path, offset_query
from cronium_app.db import read_session, write_session
from cronium_app.tools import checks, service
from cronium_app.tools.schemas import (
    TemplatePreviewIn,
    TemplatePreviewOut,
    ToolCreate,
    ToolOut,
    ToolPage,
    ToolTestIn,
    ToolTestOut,
    ToolUpdate,
)

router = APIRouter(prefix="/api/v1/tools", tags=["tools"], responses=errors(401, 404, 422))

ToolId = Annotated[int, id_path("The tool's id")]


@router.get("", response_model=ToolPage, responses=errors(422))
def list_tools(
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = offset_query(),
):
    with read_session() as session:
        return service.list_tools(session, user.access, q=q, limit=limit, offset=offset).to_dict()


@router.post("", status_code=201, response_model=ToolOut, responses=errors(409, *BODY_ERRORS))
def create_tool(body: ToolCreate, user: UserDep, settings: SettingsDep):
    with write_session() as session:
        return service.tool_to_dict(service.create_tool(session, settings, user.access, body))


@router.post("/preview", response_model=TemplatePreviewOut, responses=errors(503, *BODY_ERRORS))
async def preview(body: TemplatePreviewIn, user: UserDep, settings: SettingsDep):
    """Render templates over a sample `input` as a tool job would (secret
    variables show as ***); a template's problem comes back as `error`."""
    return await checks.preview(settings, user.access, body)


@router.get("/{tool_id}", response_model=ToolOut, responses=errors(404, 422))
def get_tool(tool_id: ToolId, user: UserDep):
    with read_session() as session:
        return service.tool_to_dict(service.get_tool(session, user.access, tool_id))


@router.patch("/{tool_id}", response_model=ToolOut, responses=errors(404, 409, *BODY_ERRORS))
def update_tool(tool_id: ToolId, body: ToolUpdate, user: UserDep, settings: SettingsDep):
    with write_session() as session:
        return service.tool_to_dict(service.update_tool(session, settings, user.access, tool_id, body))


@router.delete("/{tool_id}", status_code=204, responses=errors(404, 409, 422))
def delete_tool(tool_id: ToolId, user: UserDep) -> Response:
    """Refused (409) while events use the tool."""
    with write_session() as session:
        service.delete_tool(session, user.access, tool_id)
    return Response(status_code=204)


@router.post("/{tool_id}/test", response_model=ToolTestOut, responses=errors(404, 409, *BODY_ERRORS))
async def test_tool(tool_id: ToolId, user: UserDep, settings: SettingsDep,
                    body: Annotated[ToolTestIn | None, Body()] = None):
    """Send a test message now (an email tool: to `to`, or its own sender)."""
    return await checks.test_tool(settings, user.access, tool_id, body or ToolTestIn())
