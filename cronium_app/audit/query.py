"""Reading the log: who may see which entries, filters, keyset pages, and
the entries as the API and the UI show them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cronium_app.db import read_session
from cronium_app.errors import Invalid
from cronium_app.models import AuditEntry, Role, WorkspaceMember, WorkspaceRole
from cronium_app.pagination import Page, escape_like
from cronium_app.timeutil import given_as_utc, isoformat

ACTION_PREFIX_RE = re.compile(r"^[a-z_.]{1,64}$")
EXPORT_BATCH = 500


@dataclass(frozen=True)
class Viewer:
    """Who reads the log: an administrator sees every entry; anyone else the
    entries of their own actions and every entry of the workspaces they
    own (a team's owner sees who changed or ran what there). With
    `workspace_id` (a token acting in one workspace), only that workspace's
    entries, all of them when the token's `workspace_role` is owner."""

    user_id: int
    role: str
    workspace_id: int | None = None
    workspace_role: str | None = None

    @property
    def sees_all(self) -> bool:
        return self.role == Role.admin.value


def _visible(viewer: Viewer) -> Any:
    """Which entries someone who does not administer the server may read."""
    own = AuditEntry.actor_user_id == viewer.user_id
    if viewer.workspace_id is not None:
        return sa.true() if viewer.workspace_role == WorkspaceRole.owner.value else own
    # Read from the memberships at each query: an owner who is demoted or
    # leaves stops seeing the others' entries at once.
    owned = select(WorkspaceMember.workspace_id).where(
        WorkspaceMember.user_id == viewer.user_id, WorkspaceMember.role == WorkspaceRole.owner.value)
    return sa.or_(own, AuditEntry.workspace_id.in_(owned))


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # an email (any case) or a user id
    action: str | None = None  # a prefix: "event." or "auth.sign_in"
    target_kind: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def checked(self) -> "AuditFilter":
        """This filter with its times in UTC, or Invalid (a 422) saying why not."""
        if self.action and not ACTION_PREFIX_RE.match(self.action):
            raise Invalid("action must be an action's name or its start, such as 'event.'", field="action")
        since, until = given_as_utc(self.since, "since"), given_as_utc(self.until, "until")
        if since and until and since >= until:
            raise Invalid("'since' must be before 'until'", field="since")
        return dataclasses.replace(self, since=since, until=until)


def _conditions(viewer: Viewer, flt: AuditFilter) -> list[Any]:
    where: list[Any] = []
    if not viewer.sees_all:
        where.append(_visible(viewer))
    if viewer.workspace_id is not None:
        where.append(AuditEntry.workspace_id == viewer.workspace_id)
    if flt.actor:
        actor = flt.actor.strip()
        where.append(AuditEntry.actor_user_id == int(actor) if actor.isdigit() and len(actor) < 10
                     else sa.func.lower(AuditEntry.actor_email) == actor.lower())
    if flt.action:
        where.append(AuditEntry.action.like(f"{escape_like(flt.action)}%", escape="\\"))
    if flt.target_kind:
        where.append(AuditEntry.target_kind == flt.target_kind)
    if flt.target_id:
        where.append(AuditEntry.target_id == flt.target_id)
    if flt.since:
        where.append(AuditEntry.at >= flt.since)
    if flt.until:
        where.append(AuditEntry.at < flt.until)
    return where


def _parse_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    if not cursor.isdigit() or len(cursor) > 19:
        raise Invalid("cursor must be a nextCursor of an earlier page", field="cursor")
    return int(cursor)


def list_entries(session: Session, viewer: Viewer, flt: AuditFilter, *, limit: int, cursor: str | None = None) -> Page:
    """Newest first. Ids grow with time, so the id is the keyset cursor."""
    query = select(AuditEntry).where(*_conditions(viewer, flt.checked()))
    before = _parse_cursor(cursor)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = session.exec(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    items = [entry_to_dict(row) for row in rows[:limit]]
    return Page(items=items, total=None, limit=limit, next_cursor=str(items[-1]["id"]) if more and items else None)


def export_entries(viewer: Viewer, flt: AuditFilter, engine: Engine | None = None) -> Iterator[dict[str, Any]]:
    """Every matching entry, newest first, read a batch per short
    transaction (an export of a large log holds no transaction open)."""
    flt = flt.checked()
    cursor: str | None = None
    while True:
        with read_session(engine) as session:
            page = list_entries(session, viewer, flt, limit=EXPORT_BATCH, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def entry_to_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": isoformat(entry.at),
        "actor": {"userId": entry.actor_user_id, "email": entry.actor_email, "kind": entry.actor_kind,
                  "tokenId": entry.token_id},
        "source": entry.source,
        "clientIp": entry.client_ip,
        "action": entry.action,
        "target": {"kind": entry.target_kind, "id": entry.target_id, "label": entry.target_label},
        "changes": entry.changes or {},
        "workspaceId": entry.workspace_id,
    }
