"""Conditional actions of an event, and what they did for a job."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1.common import EventId, SettingsDep, UserDep
from cronium_app.bounds import id_path
from cronium_app.db import read_session, write_session
from cronium_app.jobs import actions as fired
from cronium_app.jobs.service import get_job
from cronium_app.tools import actions
from cronium_app.tools.actions import ActionCreate, ActionList, ActionOut, ActionUpdate
from cronium_app.tools.schemas import Out

router = APIRouter(prefix="/api/v1", tags=["actions"], responses=errors(401, 404, 422))

ActionId = Annotated[int, id_path("The action's id")]


class JobActionOut(Out):
    id: int
    action_id: int | None
    kind: str
    purpose: str
    outcome: str
    message: str
    result_job_id: str | None
    result_status: str | None
    result_error: str | None
    result_name: str | None
    created_at: str | None


class JobOrigin(Out):
    job_id: str
    purpose: str


class JobActions(Out):
    items: list[JobActionOut]
    origin: JobOrigin | None


@router.get("/events/{event_id}/actions", response_model=ActionList, responses=errors(404, 422))
def list_actions(event_id: EventId, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return {"items": actions.list_actions(session, user.access, event_id)}


@router.post("/events/{event_id}/actions", status_code=201, response_model=ActionOut,
             responses=errors(404, *BODY_ERRORS))
def create_action(event_id: EventId, body: ActionCreate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return actions.action_to_dict(session, actions.create_action(session, settings, user.access, event_id, body))


@router.patch("/events/{event_id}/actions/{action_id}", response_model=ActionOut, responses=errors(404, *BODY_ERRORS))
def update_action(event_id: EventId, action_id: ActionId, body: ActionUpdate, user: UserDep) -> dict[str, Any]:
    with write_session() as session:
        return actions.action_to_dict(session, actions.update_action(session, user.access, event_id, action_id, body))


@router.delete("/events/{event_id}/actions/{action_id}", status_code=204, responses=errors(404, 422))
def delete_action(event_id: EventId, action_id: ActionId, user: UserDep) -> Response:
    with write_session() as session:
        actions.delete_action(session, user.access, event_id, action_id)
    return Response(status_code=204)


@router.get("/jobs/{job_id}/actions", response_model=JobActions, responses=errors(404, 422))
def job_actions(job_id: str, user: UserDep) -> dict[str, Any]:
    """What the job's end fired (with each resulting job's status), and
    where the job came from when an action created it."""
    with read_session() as session:
        get_job(session, user.access, job_id)
        return fired.actions_of_job(session, user.access, job_id)
