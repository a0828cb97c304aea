"""Servers: CRUD scoped to their owner, credentials encrypted at rest, host
key pinning, and resolving an event's targets for a worker.

Secrets leave this module in the clear only through `resolve_targets`, which
only the orchestrator API (worker credentials) calls."""

from __future__ import annotations

from typing import Any

import asyncssh
import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Conflict, Invalid, NotFound
from cronium_app.models import Event, Server
from cronium_app.pagination import Page, escape_like
from cronium_app.quotas import check_room
from cronium_app.sealing import Unreadable
from cronium_app.servers import secrets
from cronium_app.servers.schemas import ServerCreate, ServerFields, ServerUpdate
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow
from orchestrator_worker.ssh.connect import openssh_line

MAX_TARGETS = 100


def _checked_private_key(text: str, passphrase: str | None) -> None:
    try:
        asyncssh.import_private_key(text, passphrase or None)
    except asyncssh.KeyEncryptionError as exc:
        raise Invalid(f"the private key could not be decrypted: the passphrase is missing or wrong ({exc})", field="passphrase")
    except (asyncssh.KeyImportError, ValueError) as exc:
        if "passphrase" in str(exc).lower():
            raise Invalid("the private key is encrypted: give its passphrase", field="passphrase")
        raise Invalid(f"the private key could not be read: {exc}", field="privateKey")


def normalize_host_key(text: str) -> str:
    """One OpenSSH public key line ("type base64"), or Invalid."""
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise Invalid(f"hostKey is not an SSH public key: {exc}", field="hostKey")
    return openssh_line(key)


def host_key_fingerprint(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return asyncssh.import_public_key(text).get_fingerprint("sha256")
    except (asyncssh.KeyImportError, ValueError):
        return None


def _credentials(server: Server, fields: ServerFields, settings: Settings) -> None:
    """Replace the stored credentials when the input brings new ones."""
    current = secrets.decrypt(settings.secret_key, server.credentials) if server.credentials else secrets.Credentials()
    if server.auth_type == "key":
        key = fields.private_key if fields.private_key is not None else current.private_key
        passphrase = fields.passphrase if "passphrase" in fields.model_fields_set else current.passphrase
        if not key:
            raise Invalid("a server with authType 'key' needs privateKey", field="privateKey")
        _checked_private_key(key, passphrase)
        new = secrets.Credentials(private_key=key, passphrase=passphrase or None)
    else:
        password = fields.password if fields.password is not None else current.password
        if not password:
            raise Invalid("a server with authType 'password' needs password", field="password")
        new = secrets.Credentials(password=password)
    if new != current or not server.credentials:
        server.credentials = secrets.encrypt(settings.secret_key, new)


def _apply(server: Server, fields: ServerFields, settings: Settings) -> None:
    data = fields.model_dump(exclude_unset=True, by_alias=False)
    endpoint_before = (server.host, server.port)
    for key in ("name", "host", "port", "username", "auth_type", "tags"):
        if data.get(key) is not None:
            setattr(server, key, data[key])
    endpoint_changed = (server.host, server.port) != endpoint_before
    if "host_key" in data:
        server.host_key = normalize_host_key(data["host_key"]) if data["host_key"] else None
    elif endpoint_changed and server.id is not None:
        # Another address is another machine: pin its key afresh.
        server.host_key = None
    _credentials(server, fields, settings)


def _name_taken(session: Session, access: Access, name: str, server_id: int | None) -> bool:
    query = select(Server.id).where(access.scope(Server), Server.name == name)
    if server_id is not None:
        query = query.where(Server.id != server_id)
    return session.exec(query).first() is not None


def create_server(session: Session, settings: Settings, access: Access, data: ServerCreate) -> Server:
    access.require(Ability.edit, "add servers")
    check_room(session, Server, access.user_id, settings.max_servers_per_user, "servers", "CRONIUM_MAX_SERVERS_PER_USER")
    server = Server(user_id=access.user_id, workspace_id=access.workspace_id, name=data.name, host=data.host, username=data.username, auth_type=data.auth_type, credentials="")
    _apply(server, data, settings)
    if _name_taken(session, access, server.name, None):
        raise Conflict(f"a server named {server.name!r} already exists", field="name")
    session.add(server)
    session.flush()
    audit.record(session, audit.Action.server_create, server, after=server)
    return server


def get_server(session: Session, access: Access, server_id: int) -> Server:
    server = session.get(Server, server_id)
    if not access.owns(server):
        raise NotFound(f"server {server_id} not found")
    return server


def update_server(session: Session, settings: Settings, access: Access, server_id: int, data: ServerUpdate) -> Server:
    access.require(Ability.edit, "change servers")
    server = get_server(session, access, server_id)
    before = audit.snapshot(server)
    _apply(server, data, settings)
    if data.name is not None and _name_taken(session, access, server.name, server.id):
        raise Conflict(f"a server named {server.name!r} already exists", field="name")
    server.updated_at = utcnow()
    session.add(server)
    session.flush()
    audit.record(session, audit.Action.server_update, server, before=before, after=server)
    return server


def delete_server(session: Session, access: Access, server_id: int) -> None:
    """Remove the server and take it off every event of its owner that names it."""
    access.require(Ability.edit, "delete servers")
    server = get_server(session, access, server_id)
    for event in session.exec(select(Event).where(access.scope(Event))).all():
        if server_id in (event.server_ids or []):
            event.server_ids = [i for i in event.server_ids if i != server_id]
            session.add(event)
    audit.record(session, audit.Action.server_delete, server, before=server)
    session.delete(server)
    session.flush()


def forget_host_key(session: Session, access: Access, server_id: int) -> Server:
    """For a deliberate host key change: the next connection pins the new key."""
    access.require(Ability.edit, "change servers")
    server = get_server(session, access, server_id)
    before = audit.snapshot(server)
    server.host_key = None
    server.updated_at = utcnow()
    session.add(server)
    session.flush()
    audit.record(session, audit.Action.server_update, server, before=before, after=server)
    return server


def list_servers(session: Session, access: Access, *, q: str | None, tag: str | None, limit: int, offset: int) -> Page:
    query = select(Server).where(access.scope(Server))
    if q:
        pattern = f"%{escape_like(q)}%"
        query = query.where(sa.or_(Server.name.ilike(pattern, escape="\\"), Server.host.ilike(pattern, escape="\\")))
    rows = session.exec(query.order_by(Server.name, Server.id)).all()
    if tag:
        # Tags are a JSON list: filtered here, the lists are short.
        rows = [s for s in rows if tag in (s.tags or [])]
    page = rows[offset : offset + limit]
    return Page(items=[server_to_dict(s) for s in page], total=len(rows), limit=limit, offset=offset)


def check_targets(session: Session, access: Access, server_ids: list[int]) -> None:
    """An event may only name its owner's servers."""
    if not server_ids:
        return
    if len(server_ids) > MAX_TARGETS:
        raise Invalid(f"at most {MAX_TARGETS} servers per event", field="serverIds")
    found = set(session.exec(select(Server.id).where(access.scope(Server), Server.id.in_(server_ids))).all())
    missing = [i for i in server_ids if i not in found]
    if missing:
        raise Invalid(f"unknown server id(s): {', '.join(map(str, missing))}", field="serverIds")


def resolve_targets(session: Session, settings: Settings, access: Access, target: dict[str, Any]) -> list[dict[str, Any]]:
    """The servers a job runs on, with their credentials, for the worker that
    claimed it. Only the job owner's servers can ever match."""
    ids = [int(i) for i in target.get("serverIds") or []]
    tags = set(target.get("serverTags") or [])
    rows = session.exec(select(Server).where(access.scope(Server)).order_by(Server.name, Server.id)).all()
    chosen = [s for s in rows if s.id in ids or tags.intersection(s.tags or [])][:MAX_TARGETS]
    resolved = []
    for server in chosen:
        item = {
            "id": server.id, "name": server.name, "host": server.host, "port": server.port,
            "username": server.username, "hostKey": server.host_key,
        }
        try:
            item.update(secrets.decrypt(settings.secret_key, server.credentials).to_dict())
        except Unreadable as exc:
            item["error"] = exc.message
        resolved.append(item)
    return resolved


def pin_host_key(session: Session, server_id: int, access: Access, host_key: str) -> str:
    """Pin `host_key` if the server has none yet; return the pinned key. Two
    first connections at once agree: the first writer wins, the other is
    told which key won (and refuses its connection if it saw another)."""
    key = normalize_host_key(host_key)
    session.execute(
        sa.update(Server)
        .where(Server.id == server_id, access.scope(Server), Server.host_key.is_(None))
        .values(host_key=key, updated_at=utcnow())
    )
    pinned = session.exec(select(Server.host_key).where(Server.id == server_id, access.scope(Server))).first()
    if pinned is None:
        raise NotFound(f"server {server_id} not found")
    return pinned


def record_check(session: Session, server: Server, ok: bool, message: str) -> None:
    server.last_checked_at = utcnow()
    server.last_check_ok = ok
    server.last_check_message = message[:2000]
    session.add(server)
    session.flush()


def server_to_dict(server: Server) -> dict[str, Any]:
    return {
        "id": server.id,
        "name": server.name,
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "authType": server.auth_type,
        "hasCredentials": bool(server.credentials),
        "hostKey": server.host_key,
        "hostKeyFingerprint": host_key_fingerprint(server.host_key),
        "tags": list(server.tags or []),
        "lastCheckedAt": isoformat(server.last_checked_at),
        "lastCheckOk": server.last_check_ok,
        "lastCheckMessage": server.last_check_message,
        "createdAt": isoformat(server.created_at),
        "updatedAt": isoformat(server.updated_at),
    }
