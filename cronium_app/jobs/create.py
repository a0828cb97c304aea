"""Creating jobs: the one way a job row comes to exist.

One entry point per reason a job is created, each taking the caller's
Session (the caller owns the transaction):

- `for_event`: a user runs an event (API, UI);
- `for_schedule`: the scheduler fires (many at once, under idempotency keys);
- `retry.retry_failed`: a failed job is run again (through `insert_job`);
- `runs.advance_run`: a workflow step is ready (through `insert_job`).

Every insert asks for the workers to be woken once its transaction commits
(`wake.wake_workers_after_commit`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Conflict, CroniumError
from cronium_app.events.service import execution_spec, get_event
from cronium_app.ids import new_id
from cronium_app.jobs.status import PENDING
from cronium_app.jobs.wake import wake_workers_after_commit
from cronium_app.models import Event, EventStatus, Job
from cronium_app.payloads import check_io_size
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow


def for_event(
    session: Session,
    settings: Settings,
    access: Access,
    *,
    event_id: int,
    input: Any = None,
    idempotency_key: str | None = None,
    priority: int | None = None,
    scheduled_for: datetime | None = None,
) -> tuple[Job, bool]:
    """Queue a run of an event (at the event's priority unless `priority`
    says otherwise). Returns (job, created); with an idempotency key already
    used, returns the existing job and created=False."""
    access.require(Ability.run, "run events")
    event = get_event(session, access, event_id)
    if event.status == EventStatus.archived.value:
        raise Conflict(f"event {event_id} is archived; unarchive it to run it")
    check_io_size(input, settings, "input")
    if idempotency_key is not None and (existing := _keyed(session, idempotency_key)) is not None:
        return existing, False
    check_queue_room(session, settings, access.user_id)
    job, created = insert_job(
        session,
        user_id=access.user_id,
        workspace_id=access.workspace_id,
        event=event,
        input=input,
        idempotency_key=idempotency_key,
        priority=event.priority if priority is None else priority,
        scheduled_for=scheduled_for,
    )
    if created:
        audit.record(session, audit.Action.job_execute, event, details={"jobId": job.id})
    return job, created


def _keyed(session: Session, idempotency_key: str) -> Job | None:
    return session.exec(select(Job).where(Job.idempotency_key == idempotency_key)).first()


class QueueFull(CroniumError):
    status_code = 429
    code = "too_many_waiting_jobs"


def check_queue_room(session: Session, settings: Settings, user_id: int) -> None:
    """Room for one more job of this user waiting to run. What the scheduler
    and retries queue is not held to it (a schedule bounds its own runs),
    but counts towards it."""
    limit = settings.max_waiting_jobs_per_user
    waiting = session.execute(
        sa.select(sa.func.count()).select_from(Job).where(Job.user_id == user_id, Job.status == PENDING)
    ).scalar()
    if waiting >= limit:
        raise QueueFull(
            f"you have {waiting} jobs waiting to run, the most this server allows "
            f"(CRONIUM_MAX_WAITING_JOBS_PER_USER={limit}): try again when some have started"
        )


def insert_job(
    session: Session,
    *,
    user_id: int,
    workspace_id: int,
    event: Event | None,
    input: Any = None,
    idempotency_key: str | None = None,
    priority: int = 0,
    scheduled_for: datetime | None = None,
    workflow_id: int | None = None,
    workflow_run_id: str | None = None,
    workflow_step_id: int | None = None,
    execution: dict[str, Any] | None = None,
    retry_of: str | None = None,
    retry_number: int = 0,
) -> tuple[Job, bool]:
    """The one place a single job row is written. `execution` (default: the
    event's spec now) lets a retry re-run the failed job's own snapshot and a
    workflow step its run's; `event` is None when a step's event has been
    deleted since its run started (the job then runs the snapshot alone)."""
    if idempotency_key is not None and (existing := _keyed(session, idempotency_key)) is not None:
        return existing, False
    now = utcnow()
    job = Job(
        id=new_id("job"),
        event_id=event.id if event is not None else None,
        workflow_id=workflow_id,
        workflow_run_id=workflow_run_id,
        workflow_step_id=workflow_step_id,
        type=execution["type"] if execution is not None else event.type,
        status=PENDING,
        execution=execution if execution is not None else execution_spec(event),
        user_id=user_id,
        workspace_id=workspace_id,
        created_at=now,
        updated_at=now,
        priority=priority,
        scheduled_for=scheduled_for,
        idempotency_key=idempotency_key,
        input=input,
        retry_of=retry_of,
        retry_number=retry_number,
    )
    try:
        # A savepoint, so that losing an idempotency race leaves the outer
        # transaction usable and we can return the winner's job.
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = session.exec(select(Job).where(Job.idempotency_key == idempotency_key)).one()
        return existing, False
    wake_workers_after_commit(session)
    return job, True


@dataclass(frozen=True)
class KeyedRun:
    """A job to queue under an idempotency key (the scheduler's runs)."""

    event: Event
    idempotency_key: str
    scheduled_for: datetime | None = None


def for_schedule(session: Session, runs: list[KeyedRun]) -> set[str]:
    """Queue one pending job per run in a single INSERT ... ON CONFLICT
    (idempotency_key) DO NOTHING: a key already used creates nothing, and
    there is no savepoint or look-up per job. Returns the keys inserted."""
    if not runs:
        return set()
    now = utcnow()
    # The model's own defaults, without building a model per job (a burst of
    # a thousand scheduled jobs spends most of its time there otherwise).
    # Columns whose default is NULL are left out: fewer parameters to send
    # (on PostgreSQL the driver parses the whole multi-row statement).
    defaults = {
        name: value
        for name, field in Job.model_fields.items()
        if not field.is_required() and (value := field.get_default(call_default_factory=True)) is not None
    }
    rows = [
        {
            **defaults,
            "id": new_id("job"), "event_id": run.event.id, "type": run.event.type, "status": PENDING,
            "execution": execution_spec(run.event), "user_id": run.event.user_id, "workspace_id": run.event.workspace_id, "created_at": now,
            "priority": run.event.priority,
            "updated_at": now, "scheduled_for": run.scheduled_for, "idempotency_key": run.idempotency_key,
        }
        for run in runs
    ]
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        inserted = _insert_keyed_rows_postgres(session, dialect, rows)
    else:
        statement = sa.dialects.sqlite.insert(Job.__table__).on_conflict_do_nothing(index_elements=["idempotency_key"])
        inserted = set(session.execute(statement.returning(Job.__table__.c.idempotency_key), rows).scalars().all())
    if inserted:
        wake_workers_after_commit(session)
    return inserted


def _insert_keyed_rows_postgres(session: Session, dialect, rows: list[dict[str, Any]]) -> set[str]:
    """The rows as one JSON parameter (jsonb_to_recordset), not a parameter
    per value: the statement's text is the same for every batch, so the
    driver parses it once and the server prepares it, instead of a new
    statement of thousands of parameters each time."""
    table = Job.__table__
    quote = dialect.identifier_preparer.quote
    names = list(rows[0])
    columns = ", ".join(quote(name) for name in names)
    record = ", ".join(f"{quote(name)} {table.c[name].type.compile(dialect=dialect)}" for name in names)
    statement = sa.text(
        f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} "
        f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({record}) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
    )
    payload = json.dumps(rows, default=_json_value)
    return set(session.execute(statement, {"rows": payload}).scalars().all())


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a job row")
