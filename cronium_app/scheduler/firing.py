"""Fire due schedules: create their runs and move them on, safely from any
number of app processes at once.

One tick, for events and then for workflows, in transactions of up to
`scheduler_batch` rows:

1. Lock the due rows (`status = 'active' AND next_fire_at <= now`): on
   PostgreSQL `FOR UPDATE SKIP LOCKED`, so two processes share the work and
   never hold the same row; on SQLite the write transaction (`BEGIN
   IMMEDIATE`) serializes them, and the second one finds the rows already
   moved on.
2. Plan each row (pure: `policy.py`): which fire times get a run (misfire
   policy, overlap policy, `max_executions`), what waits, the next fire time.
3. Create the runs: the batch's jobs in one `INSERT ... ON CONFLICT
   (idempotency_key) DO NOTHING` under the keys `sched:event:{id}:{fire
   time}` (unique in the database; `jobs.create.for_schedule`); a workflow
   run each (`jobs.workflow_runs.start_run`), under
   `sched:workflow:{id}:{fire time}`. The jobs wake the workers when the
   transaction commits.
4. Write each row's new `next_fire_at`, `queued_fire_at`, `execution_count`
   and, when `max_executions` is reached, `status = 'paused'`, with a
   conditional UPDATE that names the values it read.

Runs and the schedules' new state commit together, so a crash leaves both
or neither; a restart, a second process or a replayed tick that computes the
same fire time meets the unique key and creates nothing (and counts
nothing). If a batch fails, its rows are tried one per transaction, and a
row that still fails is put off by a minute, so one bad row cannot stop the
others.

A second, smaller pass releases queued fire times (overlap `queue`) whose
previous run has ended.

The schedules of a disabled account (`users.disabled_at`) move on without
runs: their fire times are skipped, so enabling the account again does not
bring a backlog of missed runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from cronium_app.auth.access import Access
from cronium_app.db import is_sqlite, read_session, write_session
from cronium_app.jobs import create as create_jobs
from cronium_app.jobs.create import KeyedRun
from cronium_app.jobs.status import HELD, PENDING
from cronium_app.jobs.workflow_runs import start_run
from cronium_app.models import Event, Job, User, Workflow, WorkflowRun
from cronium_app.schedules.policy import OverlapGate, plan_fires
from cronium_app.schedules.state import exhausted
from cronium_app.schedules.triggers import ScheduleError, ScheduleSpec, compile_schedule, first_fire
from cronium_app.settings import Settings
from cronium_app.timeutil import as_utc, isoformat

logger = logging.getLogger(__name__)

ACTIVE = "active"
PAUSED = "paused"
GOING = (PENDING, *HELD)
MAX_BATCHES_PER_TICK = 1000
# A row whose firing failed (a bug, bad data) is tried again this much later
# rather than on every tick.
FAILURE_BACKOFF = timedelta(seconds=60)


@dataclass
class TickReport:
    created: int = 0  # runs created
    skipped: int = 0  # fire times that got no run (overlap skip, queue full)
    queued: int = 0  # fire times set waiting (overlap queue)
    missed: int = 0  # schedules that had missed fire times (misfire policy applied)
    paused: int = 0  # schedules paused by max_executions
    failed: int = 0  # rows whose firing raised (logged; put off)
    fire_times: list[tuple[str, int, datetime]] = field(default_factory=list)  # (kind, id, fire time) created

    def add(self, other: "TickReport") -> None:
        for name in ("created", "skipped", "queued", "missed", "paused", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.fire_times.extend(other.fire_times)


def schedule_key(kind: str, row_id: int, fire_time: datetime) -> str:
    return f"sched:{kind}:{row_id}:{isoformat(fire_time)}"


# -- planning (no writes) ----------------------------------------------------------


@dataclass
class RowPlan:
    """What firing one row will do, decided before anything is written."""

    row: Any
    runs: list[datetime]  # fire times to create runs for, oldest first
    next_fire_at: datetime | None
    queued: datetime | None
    skipped: int = 0
    missed_from: datetime | None = None
    created: list[datetime] = field(default_factory=list)  # filled in when the runs are written

    @property
    def old_next(self) -> datetime | None:
        return as_utc(self.row.next_fire_at) if self.row.next_fire_at is not None else None

    @property
    def old_queued(self) -> datetime | None:
        return as_utc(self.row.queued_fire_at) if self.row.queued_fire_at is not None else None


def plan_row(settings: Settings, row: Any, now: datetime, busy: bool) -> RowPlan:
    """The row's queued fire time if the previous run has ended, then its due
    fire times through the misfire policy, the overlap policy and the limit."""
    limit = row.max_executions if row.max_executions > 0 else None
    room = None if limit is None else max(0, limit - row.execution_count)
    gate = OverlapGate(row.overlap_policy, busy)
    plan = RowPlan(row, [], row.next_fire_at and as_utc(row.next_fire_at), None)

    def take(fire_time: datetime) -> None:
        nonlocal room
        plan.runs.append(fire_time)
        gate.started()
        if room is not None:
            room -= 1

    old_queued = plan.old_queued
    if old_queued is not None and not busy and room != 0:
        take(old_queued)
    elif old_queued is not None:
        gate.queued = old_queued

    old_next = plan.old_next
    if old_next is not None and old_next <= now:
        schedule = compile_schedule(ScheduleSpec.of(row), anchor=old_next)
        due = plan_fires(
            schedule, old_next, now, row.misfire_policy,
            grace_s=settings.scheduler_misfire_grace_s, cap=settings.scheduler_run_all_cap,
        )
        plan.missed_from = due.missed_from
        for fire_time in due.fire_times:
            if room == 0:
                break
            if gate.admit(fire_time):
                take(fire_time)
        plan.next_fire_at = due.next_fire_at
        plan.skipped = len(gate.skipped)
    plan.queued = gate.queued
    return plan


# -- the two kinds of schedules ------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What differs between scheduled events and scheduled workflows."""

    name: str
    model: Any
    busy_ids: Callable[[Session, list[int]], set[int]]
    create_runs: Callable[[Session, Settings, list[RowPlan]], None]  # fills each plan's `created`
    previous_going: Callable[[Any], Any]  # SQL: a run of this row is going (for the queue pass)


def _busy_events(session: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = session.execute(
        sa.select(Job.event_id)
        .where(Job.event_id.in_(ids), Job.status.in_(GOING), Job.workflow_run_id.is_(None))
        .distinct()
    ).all()
    return {row[0] for row in rows}


def _event_going(model: Any):
    return sa.exists().where(Job.event_id == model.id, Job.status.in_(GOING), Job.workflow_run_id.is_(None))


def _create_event_jobs(session: Session, settings: Settings, plans: list[RowPlan]) -> None:
    wanted = {
        schedule_key("event", plan.row.id, fire_time): (plan, fire_time) for plan in plans for fire_time in plan.runs
    }
    runs = [KeyedRun(plan.row, key, fire_time) for key, (plan, fire_time) in wanted.items()]
    created = create_jobs.for_schedule(session, runs)
    taken = [key for key in wanted if key not in created]
    if taken:
        # Usually a replayed fire time (created nothing: right). But SQLite
        # reuses the highest rowid, so the key may belong to a deleted event
        # (its jobs keep their keys): then this event's key also names its
        # creation time.
        stale = session.execute(
            sa.select(Job.idempotency_key, Job.event_id).where(Job.idempotency_key.in_(taken))
        ).all()
        retry = {
            f"{key}:{int(as_utc(wanted[key][0].row.created_at).timestamp() * 1e6)}": wanted[key]
            for key, event_id in stale
            if event_id != wanted[key][0].row.id
        }
        created |= create_jobs.for_schedule(session, [KeyedRun(p.row, key, t) for key, (p, t) in retry.items()])
        wanted.update(retry)
    for key in sorted(created & wanted.keys()):
        plan, fire_time = wanted[key]
        plan.created.append(fire_time)


def _busy_workflows(session: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = session.execute(
        sa.select(WorkflowRun.workflow_id)
        .where(WorkflowRun.workflow_id.in_(ids), WorkflowRun.status == "running")
        .distinct()
    ).all()
    return {row[0] for row in rows}


def _workflow_going(model: Any):
    return sa.exists().where(WorkflowRun.workflow_id == model.id, WorkflowRun.status == "running")


def _create_workflow_runs(session: Session, settings: Settings, plans: list[RowPlan]) -> None:
    # (A deleted workflow takes its runs with it, so its keys cannot linger.)
    for plan in plans:
        workflow = plan.row
        for fire_time in plan.runs:
            key = schedule_key("workflow", workflow.id, fire_time)
            try:
                with session.begin_nested():
                    _, created = start_run(
                        session, settings, Access.on_behalf_of(workflow), workflow.id, None, idempotency_key=key, scheduled=True
                    )
            except IntegrityError:  # another process created it between the look-up and the insert
                created = False
            if created:
                plan.created.append(fire_time)


EVENTS = Kind("event", Event, _busy_events, _create_event_jobs, _event_going)
WORKFLOWS = Kind("workflow", Workflow, _busy_workflows, _create_workflow_runs, _workflow_going)
KINDS = (EVENTS, WORKFLOWS)


# -- writing ------------------------------------------------------------------------


def _row_values(kind: Kind, plan: RowPlan, now: datetime, report: TickReport) -> dict[str, Any]:
    """The row's new state, and the report's account of it."""
    row = plan.row
    count = row.execution_count + len(plan.created)
    values: dict[str, Any] = {"next_fire_at": plan.next_fire_at, "queued_fire_at": plan.queued, "execution_count": count}
    if row.max_executions > 0 and count >= row.max_executions:
        values.update(next_fire_at=None, queued_fire_at=None, status=PAUSED, updated_at=now)
        report.paused += 1
        logger.info("schedule paused: max_executions reached", extra={"kind": kind.name, "id": row.id, "count": count})
    if plan.missed_from is not None:
        report.missed += 1
        logger.info(
            "schedule missed fire times; policy %s", row.misfire_policy,
            extra={"kind": kind.name, "id": row.id, "missed_from": isoformat(plan.missed_from),
                   "runs": [isoformat(t) for t in plan.created]},
        )
    report.created += len(plan.created)
    report.skipped += plan.skipped
    report.queued += int(values["queued_fire_at"] is not None and values["queued_fire_at"] != plan.old_queued)
    report.fire_times.extend((kind.name, row.id, t) for t in plan.created)
    return values


def _save_rows(session: Session, kind: Kind, plans: list[RowPlan], now: datetime, report: TickReport) -> None:
    """One conditional UPDATE per row, sent as one batch: it names the values
    the plan read, so a row that changed meanwhile (impossible under the row
    lock) fails the whole batch and takes its runs back."""
    table = kind.model.__table__
    c = table.c
    statement = (
        sa.update(table)
        .where(
            c.id == sa.bindparam("b_id"),
            c.status == ACTIVE,
            c.next_fire_at.is_not_distinct_from(sa.bindparam("b_old_next", type_=c.next_fire_at.type)),
            c.queued_fire_at.is_not_distinct_from(sa.bindparam("b_old_queued", type_=c.queued_fire_at.type)),
            c.execution_count == sa.bindparam("b_old_count"),
        )
        .values(
            next_fire_at=sa.bindparam("b_next"), queued_fire_at=sa.bindparam("b_queued"),
            execution_count=sa.bindparam("b_count"), status=sa.bindparam("b_status"),
            updated_at=sa.bindparam("b_updated_at"),
        )
    )
    params = []
    for plan in plans:
        values = _row_values(kind, plan, now, report)
        params.append({
            "b_id": plan.row.id, "b_old_next": plan.old_next, "b_old_queued": plan.old_queued,
            "b_old_count": plan.row.execution_count, "b_next": values["next_fire_at"],
            "b_queued": values["queued_fire_at"], "b_count": values["execution_count"],
            "b_status": values.get("status", plan.row.status),
            "b_updated_at": values.get("updated_at", plan.row.updated_at),
        })
    changed = session.connection().execute(statement, params).rowcount
    if changed != len(plans):
        raise RuntimeError(f"{len(plans) - changed} {kind.name}s changed while they were being fired")


def _disabled_owners(session: Session, rows: list[Any]) -> set[int]:
    owners = {row.user_id for row in rows}
    return set(session.scalars(sa.select(User.id).where(User.id.in_(owners), User.disabled_at.is_not(None))).all())


def _skip_runs(plan: RowPlan) -> RowPlan:
    """The plan of a disabled account's row: moved on, nothing run or queued."""
    plan.skipped += len(plan.runs) + int(plan.queued is not None and plan.queued != plan.old_queued)
    plan.runs, plan.queued = [], None
    return plan


def _fire_rows(session: Session, settings: Settings, kind: Kind, rows: list[Any], now: datetime) -> TickReport:
    report = TickReport()
    busy = kind.busy_ids(session, [row.id for row in rows if row.overlap_policy != "allow"])
    disabled = _disabled_owners(session, rows)
    plans = [plan_row(settings, row, now, row.id in busy) for row in rows]
    plans = [_skip_runs(plan) if plan.row.user_id in disabled else plan for plan in plans]
    kind.create_runs(session, settings, [plan for plan in plans if plan.runs])
    _save_rows(session, kind, plans, now, report)
    return report


def _locked(session: Session, query):
    if is_sqlite(session.get_bind()):
        return query  # BEGIN IMMEDIATE already holds the database's write lock
    return query.with_for_update(skip_locked=True)


def _due(model: Any, now: datetime):
    return sa.and_(model.status == ACTIVE, model.next_fire_at <= now)


def _released(kind: Kind):
    """A queued fire time whose previous run has ended."""
    model = kind.model
    return sa.and_(model.status == ACTIVE, model.queued_fire_at.is_not(None), ~kind.previous_going(model))


def _anything_to_do(engine: Engine, kind: Kind, now: datetime) -> tuple[bool, bool]:
    """Cheap reads first: an idle tick takes no write lock (on SQLite the
    write lock is the whole database's)."""
    model = kind.model
    with read_session(engine) as session:
        due = session.execute(sa.select(model.id).where(_due(model, now)).limit(1)).first() is not None
        queued = session.execute(sa.select(model.id).where(_released(kind)).limit(1)).first() is not None
    return due, queued


def _fire_batch(engine: Engine, settings: Settings, kind: Kind, condition, order, now: datetime) -> tuple[int, TickReport]:
    """Fire up to a batch of rows matching `condition`; returns how many rows
    it took. If the batch fails, its rows are tried one by one."""
    model = kind.model
    query = sa.select(model).where(condition).order_by(order, model.id).limit(settings.scheduler_batch)
    ids: list[int] = []
    try:
        with write_session(engine) as session:
            rows = list(session.scalars(_locked(session, query)).all())
            ids = [row.id for row in rows]
            return len(rows), _fire_rows(session, settings, kind, rows, now) if rows else TickReport()
    except Exception:
        if not ids:
            raise
        logger.exception("firing a batch of %d %ss failed; trying them one by one", len(ids), kind.name)
    report = TickReport()
    for row_id in ids:
        try:
            with write_session(engine) as session:
                rows = list(session.scalars(_locked(session, sa.select(model).where(condition, model.id == row_id))).all())
                if rows:
                    report.add(_fire_rows(session, settings, kind, rows, now))
        except Exception:
            report.failed += 1
            logger.exception("firing %s %s failed; trying again in %s", kind.name, row_id, FAILURE_BACKOFF)
            with write_session(engine) as session:
                session.execute(
                    sa.update(model)
                    .where(model.id == row_id, model.next_fire_at <= now)
                    .values(next_fire_at=now + FAILURE_BACKOFF)
                    .execution_options(synchronize_session=False)
                )
    return len(ids), report


def fire_due(engine: Engine, settings: Settings, now: datetime) -> TickReport:
    """One tick: fire everything due at `now` (an aware datetime; tests pass
    a fake clock's)."""
    now = as_utc(now)
    report = TickReport()
    for kind in KINDS:
        due, queued = _anything_to_do(engine, kind, now)
        if due:
            for _ in range(MAX_BATCHES_PER_TICK):
                count, batch_report = _fire_batch(engine, settings, kind, _due(kind.model, now), kind.model.next_fire_at, now)
                report.add(batch_report)
                if count < settings.scheduler_batch:
                    break
        if queued:
            # One batch a tick: the rest are released on the next ones.
            report.add(_fire_batch(engine, settings, kind, _released(kind), kind.model.queued_fire_at, now)[1])
    return report


def adopt_unscheduled(engine: Engine, now: datetime) -> int:
    """Give a first fire time to active schedules that have none although
    they should fire: rows saved before migration 0003 (or written around
    the services). Run once when the loop starts; the conditional UPDATE
    makes concurrent starts harmless. Returns how many it adopted."""
    adopted = 0
    for model in (Event, Workflow):
        with write_session(engine) as session:
            rows = session.scalars(
                sa.select(model).where(
                    model.status == ACTIVE, model.schedule_type != "manual", model.next_fire_at.is_(None)
                )
            ).all()
            for row in rows:
                if exhausted(row):
                    continue
                try:
                    first = first_fire(ScheduleSpec.of(row), now)
                except ScheduleError as exc:
                    logger.warning("%s %s has an invalid schedule (%s); it does not fire", model.__tablename__, row.id, exc)
                    continue
                if first is None:  # a one-time date that has passed
                    continue
                adopted += session.execute(
                    sa.update(model)
                    .where(model.id == row.id, model.next_fire_at.is_(None), model.status == ACTIVE)
                    .values(next_fire_at=first)
                    .execution_options(synchronize_session=False)
                ).rowcount
    if adopted:
        logger.info("scheduler adopted %d schedules that had no next fire time", adopted)
    return adopted


def soonest_fire(engine: Engine) -> datetime | None:
    """The earliest next fire time of any active schedule."""
    with read_session(engine) as session:
        times = [
            session.execute(sa.select(sa.func.min(model.next_fire_at)).where(model.status == ACTIVE)).scalar()
            for model in (Event, Workflow)
        ]
    times = [as_utc(t) for t in times if t is not None]
    return min(times) if times else None
