"""/api/v1/audit: reading the audit log (cronium_app/audit). Only GET: no
route changes or deletes an entry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from cronium_app.api.errors import errors
from cronium_app.api.v1.common import MAX_PAGE, UserDep
from cronium_app.api.v1.replies import Reply, Timestamp
from cronium_app.audit.query import AuditFilter, Viewer, export_entries, list_entries
from cronium_app.auth import sessions
from cronium_app.db import read_session
from cronium_app.errors import Unauthorized
from cronium_app.models import Role
from cronium_app.settings import get_settings

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=errors(401, 422))


class AuditActor(Reply):
    user_id: int | None = Field(description="The acting user's id; null when nobody was signed in")
    email: str | None = Field(description="Their email then (for a failed sign-in, the one tried)")
    kind: str = Field(description="user (web UI), token (API token), worker (a job's script), system")
    token_id: int | None = Field(description="The API token the request came with")


class AuditTarget(Reply):
    kind: str | None = Field(description="event, workflow, variable, server, tool, trigger, token, user, job, ...")
    id: str | None
    label: str | None = Field(description="Its name when the entry was written")


class AuditEntryReply(Reply):
    id: int
    at: Timestamp
    actor: AuditActor
    source: str = Field(description="ui, api, cli, mcp, runtime, schedule, webhook or system")
    client_ip: str | None
    action: str = Field(description="What happened, e.g. event.update or auth.sign_in_failed")
    target: AuditTarget
    changes: dict[str, Any] = Field(
        description="{field: {before, after}} of the fields that changed (a created object: after only; a deleted "
                    "one: before only); secret values are never shown, only '[hidden]' or '[hidden: changed]'")
    workspace_id: int | None


class AuditPage(Reply):
    """Newest first; pass `nextCursor` back as `cursor` for the next page."""

    items: list[AuditEntryReply]
    limit: int
    next_cursor: str | None = Field(description="The cursor of the next page; null on the last")


def _jsonl(entries: Iterator[dict[str, Any]]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_response(viewer: Viewer, flt: AuditFilter) -> StreamingResponse:
    """Every entry the viewer may see that matches, as JSON lines, streamed
    a batch at a time."""
    return StreamingResponse(
        _jsonl(export_entries(viewer, flt)), media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="cronium-audit.jsonl"', "Cache-Control": "no-store"},
    )


def audit_filter(
    actor: str | None = Query(default=None, max_length=320, description="An email (any case) or a user id"),
    action: str | None = Query(default=None, max_length=64, description="An action or its start, e.g. 'event.'"),
    target_kind: str | None = Query(default=None, alias="targetKind", max_length=32),
    target_id: str | None = Query(default=None, alias="targetId", max_length=64),
    since: datetime | None = Query(default=None, description="Entries at or after this time"),
    until: datetime | None = Query(default=None, description="Entries before this time"),
) -> AuditFilter:
    return AuditFilter(actor=actor, action=action, target_kind=target_kind, target_id=target_id,
                       since=since, until=until).checked()


FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("", response_model=AuditPage, responses={200: {"content": {"application/x-ndjson": {}}}})
def list_audit_entries(
    user: UserDep,
    flt: FilterDep,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(default=None, max_length=20),
    format: Literal["json", "jsonl"] = Query(default="json", description="jsonl: every matching entry, one per line"),
) -> Any:
    """The audit log, newest first: who changed or did what, when, from
    where. An administrator sees every entry; anyone else the entries of
    their own actions and every entry of the workspaces they own (a token
    acting in one workspace: that workspace's entries only, every member's
    when its role is owner, else its own). `format=jsonl` streams every
    matching entry (no paging) as JSON lines, for export."""
    viewer = Viewer(user_id=user.id, role=user.role)
    if not user.account_token:
        # A token of one workspace reads there only, as its (capped) role
        # allows, whatever its account is.
        viewer = Viewer(user_id=user.id, role=Role.user.value, workspace_id=user.access.workspace_id,
                        workspace_role=user.access.role)
    if format == "jsonl":
        return export_response(viewer, flt)
    with read_session() as session:
        return list_entries(session, viewer, flt, limit=limit, cursor=cursor).to_dict()


# The web UI's download: the same export, for the browser's session cookie
# (the page holds no API token). Read only, like the rest.
ui_router = APIRouter(prefix="/api/ui/audit", tags=["audit"])


@ui_router.get("/export.jsonl", include_in_schema=False)
def export_for_the_web_ui(request: Request, flt: FilterDep) -> StreamingResponse:
    user = sessions.user_for_session(sessions.token_from_cookie_header(request.headers.get("cookie", "")),
                                     get_settings())
    if user is None:
        raise Unauthorized("sign in to download the audit log")
    return export_response(Viewer(user_id=user["id"], role=user["role"]), flt)
