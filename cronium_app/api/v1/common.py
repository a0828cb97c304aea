"""Shared bits of the public API routers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from cronium_app.api.deps import CurrentUser, current_user, settings_dep
from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.bounds import id_path
from cronium_app.events.schemas import PRIORITY_RANGE
from cronium_app.settings import Settings

UserDep = Annotated[CurrentUser, Depends(current_user)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]

EventId = Annotated[int, id_path("The event's id")]
WorkflowId = Annotated[int, id_path("The workflow's id")]
ServerId = Annotated[int, id_path("The server's id")]
TokenId = Annotated[int, id_path("The token's id")]

MAX_PAGE = 200


class ExecuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = None
    # This run's place in the queue (higher first); default: the event's.
    priority: int | None = Field(default=None, ge=-PRIORITY_RANGE, le=PRIORITY_RANGE)


@dataclass(frozen=True)
class RunRequest:
    """What an execute route takes besides the id of what it runs: the
    caller, the run's input, and its Idempotency-Key (scoped to the caller,
    so one user's keys never meet another's)."""

    user: CurrentUser
    settings: Settings
    input: Any
    priority: int | None
    idempotency_key: str | None
    response: Response

    def reply(self, created: bool, body: dict[str, Any]) -> dict[str, Any]:
        """202 for a new run; 200 when the Idempotency-Key found an earlier one."""
        if not created:
            self.response.status_code = 200
        return body


def run_request(
    user: UserDep,
    settings: SettingsDep,
    response: Response,
    body: Annotated[ExecuteBody | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RunRequest:
    return RunRequest(
        user=user, settings=settings, input=body.input if body else None, priority=body.priority if body else None,
        idempotency_key=f"api:{user.id}:{idempotency_key}" if idempotency_key else None, response=response,
    )


RunRequestDep = Annotated[RunRequest, Depends(run_request)]

def execute_responses(reply: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """What an execute route answers: 202 with `reply`, the same for a
    retried request (200), or an error."""
    return {
        200: {"model": reply, "description": "An earlier request with the same Idempotency-Key queued this run already"},
        **errors(404, 409, 429, *BODY_ERRORS),
    }
