"""Webhook triggers: make (the URL and its secret are shown once), rename,
sign, rotate, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1.common import SettingsDep, UserDep
from cronium_app.bounds import INT32_MAX
from cronium_app.db import read_session, write_session
from cronium_app.triggers import service
from cronium_app.triggers.service import TriggerCreate, TriggerList, TriggerOut, TriggerUpdate, TriggerWithSecret

router = APIRouter(prefix="/api/v1/triggers", tags=["triggers"], responses=errors(401, 404, 422))

TriggerId = Annotated[str, Path(max_length=64, description="The trigger's id")]


@router.get("", response_model=TriggerList, responses=errors(422))
def list_triggers(
    user: UserDep, settings: SettingsDep,
    event_id: int | None = Query(default=None, alias="eventId", ge=1, le=INT32_MAX),
    workflow_id: int | None = Query(default=None, alias="workflowId", ge=1, le=INT32_MAX),
) -> dict[str, Any]:
    with read_session() as session:
        return {"items": service.list_triggers(session, settings, user.access, event_id=event_id, workflow_id=workflow_id)}


@router.post("", status_code=201, response_model=TriggerWithSecret, responses=errors(404, *BODY_ERRORS))
def create_trigger(body: TriggerCreate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """A trigger for an event or a workflow. The reply holds its URL with
    the secret: shown this once."""
    with write_session() as session:
        trigger, secret = service.create_trigger(session, settings, user.access, body)
        return service.trigger_to_dict(trigger, settings, secret)


@router.patch("/{trigger_id}", response_model=TriggerOut, responses=errors(404, *BODY_ERRORS))
def update_trigger(trigger_id: TriggerId, body: TriggerUpdate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return service.trigger_to_dict(service.update_trigger(session, settings, user.access, trigger_id, body), settings)


@router.post("/{trigger_id}/rotate", response_model=TriggerWithSecret, responses=errors(404, 422))
def rotate_trigger(trigger_id: TriggerId, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """A new secret (shown this once); the old URL stops working at once."""
    with write_session() as session:
        trigger, secret = service.rotate_trigger(session, user.access, trigger_id)
        return service.trigger_to_dict(trigger, settings, secret)


@router.delete("/{trigger_id}", status_code=204, responses=errors(404, 422))
def delete_trigger(trigger_id: TriggerId, user: UserDep) -> Response:
    with write_session() as session:
        service.delete_trigger(session, user.access, trigger_id)
    return Response(status_code=204)
