"""Events: CRUD scoped to their owner, limits, and the execution snapshot a
job carries (so that editing an event never changes a job already queued)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit, sealing
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Invalid, NotFound, TooLarge
from cronium_app.events.schemas import EventCreate, EventFields, EventUpdate
from cronium_app.models import Event, EventType
from cronium_app.pagination import Page, escape_like
from cronium_app.quotas import check_room
from cronium_app.schedules import state as schedule_state
from cronium_app.servers import service as servers_service
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat, utcnow
from cronium_app.tools import service as tools_service
from orchestrator_worker import image_policy


def _check_limits(event: Event, settings: Settings) -> None:
    script_bytes = len(event.script.encode("utf-8"))
    if script_bytes > settings.script_max_bytes:
        raise TooLarge(
            f"script is {script_bytes} bytes; the limit is {settings.script_max_bytes} bytes",
            field="script",
        )
    problems: dict[str, str] = {}
    if event.timeout_seconds > settings.job_max_timeout_s:
        problems["timeoutSeconds"] = f"at most {settings.job_max_timeout_s} seconds"
    if event.cpus > settings.job_max_cpus:
        problems["cpus"] = f"at most {settings.job_max_cpus}"
    if event.memory_mb > settings.job_max_memory_mb:
        problems["memoryMb"] = f"at most {settings.job_max_memory_mb} MB"
    if event.pids_limit > settings.job_max_pids:
        problems["pidsLimit"] = f"at most {settings.job_max_pids}"
    if event.retries > settings.job_max_retries:
        problems["retries"] = f"at most {settings.job_max_retries}"
    if event.network == "egress" and not settings.allow_egress:
        problems["network"] = "egress is turned off on this server"
    if event.image:
        allowed = image_policy.allowed_images(settings.allowed_images, settings.runtime_image)
        if (refusal := image_policy.refusal(event.image, allowed)) is not None:
            problems["image"] = refusal
    if event.type == EventType.http.value:
        if event.server_ids or event.server_tags:
            problems["serverIds"] = "HTTP events are sent by the worker; they cannot target servers"
        if not event.http_request:
            problems["httpRequest"] = "an HTTP event needs httpRequest with at least a url"
    elif event.type == EventType.tool.value:
        if event.server_ids or event.server_tags:
            problems["serverIds"] = "tool events are sent by the worker; they cannot target servers"
        if not event.tool_action:
            problems["toolAction"] = "a tool event needs toolAction: the tool and its message"
    elif not event.script.strip():
        problems["script"] = f"a {event.type} event needs a script"
    if problems:
        summary = "; ".join(f"{field}: {msg}" for field, msg in problems.items())
        raise Invalid(f"invalid event: {summary}", fields=problems)


def _apply(event: Event, fields: EventFields) -> None:
    data = fields.model_dump(exclude_unset=True, by_alias=False, exclude={"secret_env_vars", "tool_action"})
    for key, value in data.items():
        if key == "http_request" and fields.http_request is not None:
            value = fields.http_request.model_dump()
        elif key in ("type", "status", "network", "schedule_type") and value is not None:
            value = value.value if hasattr(value, "value") else value
        elif key in ("run_at", "start_at") and value is not None:
            value = as_utc(value)
        elif value is None and key in _NOT_NULL_DEFAULTS:
            continue
        setattr(event, key, value)


# Columns that cannot be NULL: an explicit null in an update leaves them as they are.
_NOT_NULL_DEFAULTS = {
    "name", "description", "type", "script", "status", "timeout_seconds", "retries", "cpus", "max_concurrent", "priority",
    "memory_mb", "pids_limit", "network", "env_vars", "tags", "schedule_type", "timezone",
    "max_executions", "misfire_policy", "overlap_policy", "server_ids", "server_tags", "remote_docker",
}


def _apply_secret_env(event: Event, settings: Settings, changes: dict[str, str | None] | None) -> None:
    """Merge `changes` into the event's sealed secrets (None removes one)
    and keep their names beside them. A name may not be a plain variable
    too: which value would the script get?"""
    if changes:
        current = _current_secret_env(event, settings, changes)
        for name, value in changes.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        event.secret_env = sealing.seal(settings.secret_key, sealing.SECRET_ENV, current) if current else None
        event.secret_env_names = sorted(current)
    both = sorted(set(event.secret_env_names or ()) & set(event.env_vars or {}))
    if both:
        raise Invalid(
            f"{', '.join(both)}: a name cannot be both a plain and a secret environment variable",
            fields={"secretEnvVars": f"{', '.join(both)} is also in envVars"},
        )


def _current_secret_env(event: Event, settings: Settings, changes: dict[str, str | None]) -> dict[str, str]:
    """The secrets to merge into. Sealed under another SECRET_KEY, they are
    replaced only by an update that enters every one of them again."""
    try:
        return secret_env_values(event, settings)
    except sealing.Unreadable:
        missing = sorted(set(event.secret_env_names or ()) - {name for name, value in changes.items() if value is not None})
        if missing:
            raise sealing.Unreadable(
                "the event's secret environment variables cannot be decrypted (SECRET_KEY changed since they "
                f"were saved): enter all of them again ({', '.join(missing)})"
            ) from None
        return {}


def _apply_tool_action(session: Session, event: Event, access: Access, action) -> None:
    """A tool event's action, checked against the owner's tools (its stored
    form names the variables its templates read)."""
    if action is not None:
        event.tool_action = tools_service.check_action(session, access, action)


def secret_env_values(event: Event, settings: Settings) -> dict[str, str]:
    if not event.secret_env:
        return {}
    return sealing.unseal(settings.secret_key, sealing.SECRET_ENV, event.secret_env,
                          what="the event's secret environment variables")


def create_event(
    session: Session, settings: Settings, access: Access, data: EventCreate, *, source: str | None = None
) -> Event:
    """`source` names what created it ("mcp"), when not the API or the UI."""
    access.require(Ability.edit, "create events")
    check_room(session, Event, access.user_id, settings.max_events_per_user, "events", "CRONIUM_MAX_EVENTS_PER_USER")
    event = Event(
        user_id=access.user_id,
        workspace_id=access.workspace_id,
        name=data.name,
        type=data.type.value,
        timeout_seconds=settings.job_default_timeout_s,
        cpus=settings.job_default_cpus,
        memory_mb=settings.job_default_memory_mb,
        pids_limit=settings.job_default_pids,
        source=source,
    )
    _apply(event, data)
    _apply_secret_env(event, settings, data.secret_env_vars)
    _apply_tool_action(session, event, access, data.tool_action)
    _check_limits(event, settings)
    servers_service.check_targets(session, access, event.server_ids)
    schedule_state.on_saved(event, None, utcnow())
    session.add(event)
    session.flush()
    audit.record(session, audit.Action.event_create, event, after=event)
    return event


def get_event(session: Session, access: Access, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if not access.owns(event):
        raise NotFound(f"event {event_id} not found")
    return event


def update_event(session: Session, settings: Settings, access: Access, event_id: int, data: EventUpdate) -> Event:
    access.require(Ability.edit, "change events")
    event = get_event(session, access, event_id)
    before = audit.snapshot(event)
    schedule_before = schedule_state.snapshot(event)
    _apply(event, data)
    _apply_secret_env(event, settings, data.secret_env_vars)
    _apply_tool_action(session, event, access, data.tool_action)
    _check_limits(event, settings)
    if data.server_ids is not None:
        servers_service.check_targets(session, access, event.server_ids)
    # Validates the schedule and applies it at once (pause, resume, edit).
    schedule_state.on_saved(event, schedule_before, utcnow())
    event.updated_at = utcnow()
    session.add(event)
    session.flush()
    audit.record(session, audit.Action.event_update, event, before=before, after=event)
    return event


def delete_event(session: Session, access: Access, event_id: int) -> None:
    access.require(Ability.edit, "delete events")
    event = get_event(session, access, event_id)
    audit.record(session, audit.Action.event_delete, event, before=event)
    session.delete(event)
    session.flush()


@dataclass(frozen=True)
class EventFilter:
    q: str | None = None
    type: str | None = None
    status: str | None = None


def list_events(session: Session, access: Access, flt: EventFilter, *, limit: int, offset: int) -> Page:
    query = select(Event).where(access.scope(Event))
    if flt.q:
        pattern = f"%{escape_like(flt.q)}%"
        query = query.where(
            sa.or_(Event.name.ilike(pattern, escape="\\"), Event.description.ilike(pattern, escape="\\"))
        )
    if flt.type:
        query = query.where(Event.type == flt.type)
    if flt.status:
        query = query.where(Event.status == flt.status)
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Event.id.desc()).limit(limit).offset(offset)).all()
    return Page(items=[event_to_dict(e) for e in rows], total=total, limit=limit, offset=offset)


def execution_spec(event: Event) -> dict[str, Any]:
    """What the worker needs to run the event, frozen at job creation.
    Servers are named, not described: the orchestrator API resolves them
    (with their credentials) only for the worker that claims the job."""
    spec = {
        "type": event.type,
        "script": event.script if event.type not in (EventType.http.value, EventType.tool.value) else None,
        "http": event.http_request if event.type == EventType.http.value else None,
        "timeoutSeconds": event.timeout_seconds,
        "resources": {"cpus": event.cpus, "memoryMb": event.memory_mb, "pids": event.pids_limit},
        "network": event.network,
        "env": dict(event.env_vars or {}),
        "image": event.image,
        "event": {"id": event.id, "name": event.name},
    }
    if event.secret_env:
        # Sealed as on the event: a job row never holds a secret in the
        # clear. The claim opens it for the worker (jobs.queue).
        spec["secretEnv"] = {"names": list(event.secret_env_names), "sealed": event.secret_env}
    if event.type == EventType.tool.value and event.tool_action:
        spec["tool"] = dict(event.tool_action)
    if event.server_ids or event.server_tags:
        spec["target"] = {
            "serverIds": list(event.server_ids or []),
            "serverTags": list(event.server_tags or []),
            "docker": bool(event.remote_docker),
        }
    return spec


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "type": event.type,
        "script": event.script,
        "httpRequest": event.http_request,
        "toolAction": event.tool_action,
        "status": event.status,
        "source": event.source,
        "timeoutSeconds": event.timeout_seconds,
        "retries": event.retries,
        "cpus": event.cpus,
        "memoryMb": event.memory_mb,
        "pidsLimit": event.pids_limit,
        "network": event.network,
        "envVars": dict(event.env_vars or {}),
        "secretEnvVarNames": list(event.secret_env_names or []),
        "maxConcurrent": event.max_concurrent,
        "priority": event.priority,
        "retentionDays": event.retention_days,
        "retentionRuns": event.retention_runs,
        "image": event.image,
        "tags": list(event.tags or []),
        "serverIds": list(event.server_ids or []),
        "serverTags": list(event.server_tags or []),
        "remoteDocker": bool(event.remote_docker),
        "scheduleType": event.schedule_type,
        "cronExpression": event.cron_expression,
        "intervalSeconds": event.interval_seconds,
        "runAt": isoformat(event.run_at),
        "timezone": event.timezone,
        "startAt": isoformat(event.start_at),
        "maxExecutions": event.max_executions,
        "executionCount": event.execution_count,
        "misfirePolicy": event.misfire_policy,
        "overlapPolicy": event.overlap_policy,
        "nextFireAt": isoformat(event.next_fire_at),
        "queuedFireAt": isoformat(event.queued_fire_at),
        "pausedReason": schedule_state.paused_reason(event),
        "createdAt": isoformat(event.created_at),
        "updatedAt": isoformat(event.updated_at),
    }
