"""Shared bits of the public API routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Header, Response
from pydantic import BaseModel, ConfigDict

from cronium_app.api.deps import CurrentUser, admin_user, current_user, settings_dep
from cronium_app.bounds import id_path
from cronium_app.settings import Settings

UserDep = Annotated[CurrentUser, Depends(current_user)]
AdminDep = Annotated[CurrentUser, Depends(admin_user)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]

EventId = Annotated[int, id_path("The event's id")]
WorkflowId = Annotated[int, id_path("The workflow's id")]
ServerId = Annotated[int, id_path("The server's id")]
TokenId = Annotated[int, id_path("The token's id")]

MAX_PAGE = 200



class ExecuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = None


ExecuteBodyDep = Annotated[ExecuteBody | None, Body()]
IdempotencyHeader = Annotated[str | None, Header(max_length=200)]


def scoped_idempotency_key(user_id: int, header: str | None) -> str | None:
    """Idempotency-Key values are the caller's own: scope them to the user."""
    return f"api:{user_id}:{header}" if header else None


# Declared beside a route's 202: what a retried request gets.
REPLAYED = {200: {"description": "An earlier request with the same Idempotency-Key queued this run already"}}


def queued_reply(response: Response, created: bool, body: dict[str, Any]) -> dict[str, Any]:
    """202 for a new run; 200 when an Idempotency-Key found an earlier one."""
    if not created:
        response.status_code = 200
    return body
