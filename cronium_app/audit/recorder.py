"""Writing entries: `record` in the caller's transaction (an entry exists
only if the change it tells of was committed), `record_now` in a
transaction of its own (what leaves nothing else behind, such as a failed
sign-in)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session

from cronium_app.audit import context
from cronium_app.audit.actions import Action
from cronium_app.audit.snapshots import Snapshot, _render, changes, snapshot
from cronium_app.db import write_session
from cronium_app.models import AuditEntry

MAX_LABEL = 200
MAX_EMAIL = 320
# The kind of target a table's rows are.
_KINDS = {
    "users": "user", "api_tokens": "token", "events": "event", "event_actions": "event_action",
    "workflows": "workflow", "workflow_runs": "workflow_run", "variables": "variable", "servers": "server",
    "tools": "tool", "webhook_triggers": "trigger", "jobs": "job", "invitations": "invitation",
}
_LABEL_FIELDS = ("name", "key", "email")
# Every kind of target an entry may name (the filters' choices).
TARGET_KINDS = sorted({*_KINDS.values(), "workspace", "member", "settings"})


@dataclass(frozen=True)
class Target:
    """What an action was about: a kind (`event`), its id and a label a
    person recognises (its name then)."""

    kind: str
    id: str | int | None = None
    label: str | None = None

    @classmethod
    def of(cls, row: Any, label: str | None = None) -> "Target":
        """The target a row is (its table says the kind, its name the label)."""
        table = sa_inspect(row).mapper.local_table.name
        ids = sa_inspect(row).identity or (getattr(row, "id", None),)
        if label is None:
            label = next((str(v) for f in _LABEL_FIELDS if (v := getattr(row, f, None))), None)
        return cls(kind=_KINDS.get(table, table), id=ids[0], label=label)


def _as_snapshot(value: Snapshot | Any | None) -> Snapshot | None:
    if value is None or isinstance(value, dict):
        return value
    return snapshot(value)


def _entry(action: Action, target: Target | None, before, after, details, caller: context.Caller,
           workspace_id: int | None = None) -> AuditEntry:
    shown = changes(_as_snapshot(before), _as_snapshot(after))
    for key, value in (details or {}).items():
        shown[key] = {"after": _render(value)}
    return AuditEntry(
        actor_user_id=caller.user_id,
        actor_email=(caller.email or None) and caller.email[:MAX_EMAIL],
        actor_kind=caller.kind,
        token_id=caller.token_id,
        source=caller.source,
        client_ip=caller.client_ip,
        action=Action(action).value,
        target_kind=target.kind if target else None,
        target_id=str(target.id)[:64] if target and target.id is not None else None,
        target_label=(target.label or None) and target.label[:MAX_LABEL] if target else None,
        changes=shown or None,
        workspace_id=workspace_id,
    )


def record(
    session: Session,
    action: Action,
    target: Target | Any | None = None,
    *,
    before: Snapshot | Any | None = None,
    after: Snapshot | Any | None = None,
    details: dict[str, Any] | None = None,
    workspace_id: int | None = None,
) -> None:
    """Add an entry to the caller's transaction.

    `target`: a Target, or a row (its table and name make one). `before`
    and `after`: snapshots (`audit.snapshot(row)`, taken before changing the
    row) or rows; only changed fields are kept, secrets masked. `details`:
    a few facts of an action that no row holds (never a secret).
    `workspace_id`: the workspace the action happened in; left out, the
    target row's own (every resource belongs to one)."""
    if target is not None and not isinstance(target, Target):
        if workspace_id is None:
            workspace_id = getattr(target, "workspace_id", None)
        target = Target.of(target)
    session.add(_entry(action, target, before, after, details, context.current(), workspace_id))


def record_now(action: Action, target: Target | None = None, *, email: str | None = None,
               details: dict[str, Any] | None = None, workspace_id: int | None = None) -> None:
    """Write an entry in a transaction of its own. `email`: the account the
    action named when nobody is signed in (a failed sign-in's).
    `workspace_id`: the workspace the action happened in, if any."""
    caller = context.current()
    if email is not None and caller.user_id is None:
        caller = dataclasses.replace(caller, email=email)
    with write_session() as session:
        session.add(_entry(action, target, None, None, details, caller, workspace_id))
