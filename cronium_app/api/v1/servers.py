"""Remote servers: CRUD, test connection, forget the pinned host key.
Credentials go in; they never come back out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.api.v1 import replies
from cronium_app.api.v1.common import MAX_PAGE, ServerId, SettingsDep, UserDep
from cronium_app.bounds import offset_query
from cronium_app.db import read_session, write_session
from cronium_app.servers import check, service
from cronium_app.servers.schemas import ServerCreate, ServerUpdate

router = APIRouter(prefix="/api/v1/servers", tags=["servers"], responses=errors(401, 404, 422))


@router.get("", response_model=replies.ServerPage, responses=errors(422))
def list_servers(
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    tag: str | None = Query(default=None, max_length=50),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = offset_query(),
) -> dict[str, Any]:
    """Your servers, newest first; `tag` keeps those carrying it."""
    with read_session() as session:
        return service.list_servers(session, user.access, q=q, tag=tag, limit=limit, offset=offset).to_dict()


@router.post("", status_code=201, response_model=replies.Server, responses=errors(409, *BODY_ERRORS))
def create_server(body: ServerCreate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """Add an SSH server with a private key (and passphrase) or a password;
    they are stored encrypted and never returned."""
    with write_session() as session:
        return service.server_to_dict(service.create_server(session, settings, user.access, body))


@router.get("/{server_id}", response_model=replies.Server, responses=errors(404, 422))
def get_server(server_id: ServerId, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return service.server_to_dict(service.get_server(session, user.access, server_id))


@router.patch("/{server_id}", response_model=replies.Server, responses=errors(404, 409, *BODY_ERRORS))
def update_server(server_id: ServerId, body: ServerUpdate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return service.server_to_dict(service.update_server(session, settings, user.access, server_id, body))


@router.delete("/{server_id}", status_code=204, responses=errors(404, 422))
def delete_server(server_id: ServerId, user: UserDep) -> Response:
    with write_session() as session:
        service.delete_server(session, user.access, server_id)
    return Response(status_code=204)


@router.post("/{server_id}/test", response_model=replies.ServerCheck, responses=errors(404, 422))
async def test_server(server_id: ServerId, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """Log in and run `true`; pins the host key on the first success."""
    return await check.test_connection(settings, user.access, server_id)


@router.delete("/{server_id}/host-key", response_model=replies.Server, responses=errors(404, 422))
def forget_host_key(server_id: ServerId, user: UserDep) -> dict[str, Any]:
    """Forget the pinned host key: the next successful connection pins the key it finds."""
    with write_session() as session:
        return service.server_to_dict(service.forget_host_key(session, user.access, server_id))
