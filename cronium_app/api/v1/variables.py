from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import MAX_PAGE, SettingsDep, UserDep
from cronium_app.bounds import offset_query
from cronium_app.db import read_session, write_session
from cronium_app.variables import service

router = APIRouter(prefix="/api/v1/variables", tags=["variables"], responses=errors(401, 404, 422))


class VariableBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Any
    # True: sealed at rest and never shown again (scripts still read it).
    # Left out: a variable keeps what it was (a new one is not secret).
    secret: bool | None = None


@router.get("", response_model=replies.VariablePage, responses=errors(422))
def list_variables(
    user: UserDep, limit: int = Query(default=100, ge=1, le=MAX_PAGE), offset: int = offset_query()
) -> dict[str, Any]:
    """Your variables, by key (a secret one with a null value)."""
    with read_session() as session:
        return {"items": service.list_variables(session, user.access, limit=limit, offset=offset), "limit": limit, "offset": offset}


@router.get("/{key}", response_model=replies.Variable, responses=errors(404, 422))
def get_variable(key: str, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return service.variable_to_dict(service.get_variable(session, user.access, key))


@router.put("/{key}", response_model=replies.Variable,
            responses={201: {"model": replies.Variable, "description": "The variable was created (200: replaced)"},
                       **errors(*BODY_ERRORS)})
def put_variable(key: str, body: VariableBody, user: UserDep, settings: SettingsDep, response: Response) -> dict[str, Any]:
    """Create or replace a variable: any JSON `value`, which your scripts
    read with `cronium.get_variable(key)`. `secret: true` seals it and it is
    never shown again; left out, a variable keeps what it was."""
    with write_session() as session:
        variable, created = service.set_variable(session, settings, user.access, key, body.value, secret=body.secret)
        if created:
            response.status_code = 201
        return service.variable_to_dict(variable)


@router.delete("/{key}", status_code=204, responses=errors(404, 422))
def delete_variable(key: str, user: UserDep) -> Response:
    with write_session() as session:
        service.delete_variable(session, user.access, key)
    return Response(status_code=204)
