"""Remote servers: CRUD, test connection, forget the pinned host key.
Credentials go in; they never come back out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from cronium_app.api.v1.common import MAX_PAGE, SettingsDep, UserDep
from cronium_app.db import read_session, write_session
from cronium_app.servers import check, service
from cronium_app.servers.schemas import ServerCreate, ServerUpdate

router = APIRouter(prefix="/api/v1/servers", tags=["servers"])


@router.get("")
def list_servers(
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    tag: str | None = Query(default=None, max_length=50),
    limit: int = Query(default=50, ge=1, le=MAX_PAGE),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    with read_session() as session:
        return service.list_servers(session, user.id, q=q, tag=tag, limit=limit, offset=offset).to_dict()


@router.post("", status_code=201)
def create_server(body: ServerCreate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return service.server_to_dict(service.create_server(session, settings, user.id, body))


@router.get("/{server_id}")
def get_server(server_id: int, user: UserDep) -> dict[str, Any]:
    with read_session() as session:
        return service.server_to_dict(service.get_server(session, user.id, server_id))


@router.patch("/{server_id}")
def update_server(server_id: int, body: ServerUpdate, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    with write_session() as session:
        return service.server_to_dict(service.update_server(session, settings, user.id, server_id, body))


@router.delete("/{server_id}", status_code=204)
def delete_server(server_id: int, user: UserDep) -> Response:
    with write_session() as session:
        service.delete_server(session, user.id, server_id)
    return Response(status_code=204)


@router.post("/{server_id}/test")
async def test_server(server_id: int, user: UserDep, settings: SettingsDep) -> dict[str, Any]:
    """Log in and run `true`; pins the host key on the first success."""
    return await check.test_connection(settings, user.id, server_id)


@router.delete("/{server_id}/host-key")
def forget_host_key(server_id: int, user: UserDep) -> dict[str, Any]:
    with write_session() as session:
        return service.server_to_dict(service.forget_host_key(session, user.id, server_id))
