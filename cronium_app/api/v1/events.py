from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import execute_responses, MAX_PAGE, EventId, RunRequestDep, SettingsDep, UserDep
from cronium_app.bounds import offset_query
from cronium_app.db import read_session, write_session
from cronium_app.events import service
from cronium_app.events.schemas import EventCreate, EventUpdate
from cronium_app.jobs import create as create_jobs
from cronium_app.models import EventStatus, EventType

router = APIRouter(prefix="/api/v1/events", tags=["events"], responses=errors(401, 404, 422))


@router.get("", response_model=replies.EventPage, responses=errors(422))
def list_events(
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    type: EventType | None = None,
    status: EventStatus | None = None,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = offset_query(),
) -> dict[str, Any]:
    """Your events, newest first; `q` searches names and descriptions."""
    flt = service.EventFilter(q=q, type=type.value if type else None, status=status.value if status else None)
    with read_session() as session:
        return service.list_events(session, user.access, flt, limit=limit, offset=offset).to_dict()


@router.post("", status_code=201, response_model=replies.Event, responses=errors(*BODY_ERRORS))
def create_event(body: EventCreate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """Create an event. Leave out what you do not need: limits default to the
    server's (CRONIUM_JOB_DEFAULT_*), the schedule to none (manual). Secret
    environment variables (`secretEnvVars`) are write-only: replies list
    their names in `secretEnvVarNames`."""
    with write_session() as session:
        return service.event_to_dict(service.create_event(session, settings, user.access, body))


@router.get("/{event_id}", response_model=replies.Event, responses=errors(404, 422))
def get_event(event_id: EventId, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return service.event_to_dict(service.get_event(session, user.access, event_id))


@router.patch("/{event_id}", response_model=replies.Event, responses=errors(404, 409, *BODY_ERRORS))
def update_event(event_id: EventId, body: EventUpdate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """Change the fields you send; the others stay. In `secretEnvVars`, a
    name set to null removes that secret."""
    with write_session() as session:
        return service.event_to_dict(service.update_event(session, settings, user.access, event_id, body))


@router.delete("/{event_id}", status_code=204, responses=errors(404, 422))
def delete_event(event_id: EventId, user: UserDep) -> Response:
    """Delete the event. Its jobs stay (their `eventId` becomes null);
    workflow steps that run it are removed with it."""
    with write_session() as session:
        service.delete_event(session, user.access, event_id)
    return Response(status_code=204)


@router.post("/{event_id}/execute", status_code=202, response_model=replies.RunQueued, responses=execute_responses(replies.RunQueued))
def execute_event(event_id: EventId, run: RunRequestDep) -> dict[str, Any]:
    """Queue a run of the event with an optional `input` (any JSON; the
    script reads it with `cronium.input()`). Follow the job with `GET
    /api/v1/jobs/{jobId}` and its log with `GET /api/v1/jobs/{jobId}/logs`.
    An `Idempotency-Key` header makes retries of this request return the
    same job (200) instead of queueing another."""
    with write_session() as session:
        job, created = create_jobs.for_event(
            session, run.settings, run.user.access, event_id=event_id, input=run.input,
            priority=run.priority, idempotency_key=run.idempotency_key,
        )
        return run.reply(created, {"jobId": job.id, "status": "queued"})
