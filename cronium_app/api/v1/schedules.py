"""Schedule previews: the next fire times of a saved event or workflow, or
of a schedule being edited, in the schedule's time zone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import EventId, UserDep, WorkflowId
from cronium_app.db import read_session
from cronium_app.events.service import get_event
from cronium_app.schedules import state as schedule_state
from cronium_app.schedules.schemas import PreviewIn
from cronium_app.schedules.triggers import ScheduleSpec
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.workflows.service import get_workflow

router = APIRouter(prefix="/api/v1", tags=["schedules"], responses=errors(401, 404, 422))

CountQuery = Query(default=5, ge=1, le=50, description="how many fire times")


def _saved_preview(row: Any, count: int) -> dict[str, Any]:
    times = schedule_state.preview(row, count, utcnow())
    return schedule_state.preview_to_dict(
        ScheduleSpec.of(row), times, status=row.status, nextFireAt=isoformat(row.next_fire_at),
        firing=row.next_fire_at is not None,
    )


@router.get("/events/{event_id}/schedule/preview", response_model=replies.SavedSchedulePreview, responses=errors(404, 422))
def preview_event(event_id: EventId, user: UserDep, count: int = CountQuery) -> dict[str, Any]:
    """The next fire times of a saved event. For an event that is not active
    (paused, draft), the times it would have if it were resumed now."""
    with read_session() as session:
        return _saved_preview(get_event(session, user.access, event_id), count)


@router.get("/workflows/{workflow_id}/schedule/preview", response_model=replies.SavedSchedulePreview,
            responses=errors(404, 422))
def preview_workflow(workflow_id: WorkflowId, user: UserDep, count: int = CountQuery) -> dict[str, Any]:
    """The next fire times of a saved workflow (as for an event)."""
    with read_session() as session:
        return _saved_preview(get_workflow(session, user.access, workflow_id), count)


@router.post("/schedules/preview", response_model=replies.SchedulePreview, responses=errors(*BODY_ERRORS))
def preview_draft(body: PreviewIn, user: UserDep) -> dict[str, Any]:
    """The first fire times of a schedule as it stands in an editor; 422 with
    a message per field for anything a save would refuse."""
    spec = body.spec()
    return schedule_state.preview_to_dict(spec, schedule_state.preview_spec(spec, body.count, utcnow()))
