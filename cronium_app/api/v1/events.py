from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from cronium_app.api.v1.common import (
    MAX_PAGE,
    ExecuteBodyDep,
    IdempotencyHeader,
    SettingsDep,
    UserDep,
    queued_reply,
    scoped_idempotency_key,
)
from cronium_app.db import read_session, write_session
from cronium_app.events import service
from cronium_app.events.schemas import EventCreate, EventUpdate
from cronium_app.jobs import create as create_jobs
from cronium_app.models import EventStatus, EventType

router = APIRouter(prefix="/api/v1/events", tags=["events"])


@router.get("")
def list_events(
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    type: EventType | None = None,
    status: EventStatus | None = None,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    flt = service.EventFilter(q=q, type=type.value if type else None, status=status.value if status else None)
    with read_session() as session:
        return service.list_events(session, user.id, flt, limit=limit, offset=offset).to_dict()


@router.post("", status_code=201)
def create_event(body: EventCreate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return service.event_to_dict(service.create_event(session, settings, user.id, body))


@router.get("/{event_id}")
def get_event(event_id: int, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return service.event_to_dict(service.get_event(session, user.id, event_id))


@router.patch("/{event_id}")
def update_event(event_id: int, body: EventUpdate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return service.event_to_dict(service.update_event(session, settings, user.id, event_id, body))


@router.delete("/{event_id}", status_code=204)
def delete_event(event_id: int, user: UserDep) -> Response:
    with write_session() as session:
        service.delete_event(session, user.id, event_id)
    return Response(status_code=204)


@router.post("/{event_id}/execute", status_code=202)
def execute_event(
    event_id: int,
    user: UserDep,
    settings: SettingsDep,
    response: Response,
    body: ExecuteBodyDep = None,
    idempotency_key: IdempotencyHeader = None,
) -> dict[str, Any]:
    """Queue a run. An `Idempotency-Key` header makes retries of this request
    return the same job instead of queueing another."""
    with write_session() as session:
        job, created = create_jobs.for_event(
            session, settings, user_id=user.id, event_id=event_id,
            input=body.input if body else None, idempotency_key=scoped_idempotency_key(user.id, idempotency_key),
        )
        return queued_reply(response, created, {"jobId": job.id, "status": "queued"})
