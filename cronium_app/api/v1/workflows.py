from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import execute_responses, MAX_PAGE, RunRequestDep, UserDep, WorkflowId
from cronium_app.bounds import offset_query
from cronium_app.db import read_session, write_session
from cronium_app.jobs import run_state, workflow_runs
from cronium_app.workflows import service
from cronium_app.workflows.schemas import WorkflowIn

router = APIRouter(prefix="/api/v1", tags=["workflows"], responses=errors(401, 404, 422))


@router.get("/workflows", response_model=replies.WorkflowPage, responses=errors(422))
def list_workflows(
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = offset_query(),
) -> dict[str, Any]:
    with read_session() as session:
        return service.list_workflows(session, user.access, q=q, limit=limit, offset=offset).to_dict()


@router.post("/workflows", status_code=201, response_model=replies.Workflow, responses=errors(*BODY_ERRORS))
def create_workflow(body: WorkflowIn, user: UserDep) -> dict[str, Any]:
    """Create a workflow: named steps, each running one of your events, and
    edges between them (`always`, `on_success`, `on_failure`, or
    `on_condition` with the `value` the parent set). No cycles."""
    with write_session() as session:
        workflow = service.create_workflow(session, user.access, body)
        return service.workflow_to_dict(session, workflow)


@router.get("/workflows/{workflow_id}", response_model=replies.Workflow, responses=errors(404, 422))
def get_workflow(workflow_id: WorkflowId, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return service.workflow_to_dict(session, service.get_workflow(session, user.access, workflow_id))


@router.put("/workflows/{workflow_id}", response_model=replies.Workflow, responses=errors(404, *BODY_ERRORS))
def replace_workflow(workflow_id: WorkflowId, body: WorkflowIn, user: UserDep) -> dict[str, Any]:
    """Replace the whole definition. Runs already going follow the graph they started with."""
    with write_session() as session:
        workflow = service.replace_workflow(session, user.access, workflow_id, body)
        return service.workflow_to_dict(session, workflow)


@router.delete("/workflows/{workflow_id}", status_code=204, responses=errors(404, 422))
def delete_workflow(workflow_id: WorkflowId, user: UserDep) -> Response:
    with write_session() as session:
        service.delete_workflow(session, user.access, workflow_id)
    return Response(status_code=204)


@router.post("/workflows/{workflow_id}/execute", status_code=202, response_model=replies.RunStarted,
             responses=execute_responses(replies.RunStarted))
def execute_workflow(workflow_id: WorkflowId, run: RunRequestDep) -> dict[str, Any]:
    """Start a run. An `Idempotency-Key` header makes retries of this request
    return the same run instead of starting another."""
    with write_session() as session:
        started, created = workflow_runs.start_run(
            session, run.settings, run.user.access, workflow_id, run.input, idempotency_key=run.idempotency_key,
        )
        return run.reply(created, {"runId": started.id, "status": started.status})


@router.get("/workflows/{workflow_id}/runs", response_model=replies.RunPage, responses=errors(404, 422))
def list_runs(
    workflow_id: WorkflowId,
    user: UserDep,
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = offset_query(),
) -> dict[str, Any]:
    with read_session() as session:
        return {"items": run_state.list_runs(session, user.access, workflow_id, limit=limit, offset=offset), "limit": limit, "offset": offset}


@router.get("/workflow-runs/{run_id}", response_model=replies.Run, responses=errors(404, 422))
def get_run(run_id: str, user: UserDep) -> dict[str, Any]:
    """A run and each of its steps: its status, its job and its output."""
    with read_session() as session:
        return run_state.run_to_dict(session, run_state.get_run(session, user.access, run_id))


@router.post("/workflow-runs/{run_id}/cancel", response_model=replies.Run, responses=errors(404, 409, 422))
def cancel_run(run_id: str, user: UserDep) -> dict[str, Any]:
    with write_session() as session:
        return run_state.run_to_dict(session, workflow_runs.cancel_run(session, user.access, run_id))
