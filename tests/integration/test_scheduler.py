"""The scheduler against the real database (SQLite, or PostgreSQL with
DATABASE_URL), driven by a fake clock: each tick is `fire_due(now=...)` at
a chosen moment, so nothing here waits for real time.

Every schedule starts at `T0`, a moment a day ahead, so that the real clock
never makes it due; the schedules a test made are parked afterwards, so that
later tests' ticks (which fire everything due at their fake `now`) leave
them alone.
"""

from __future__ import annotations

import itertools
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from cronium_app.auth.access import Access
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.events.schemas import EventUpdate
from cronium_app.events.service import delete_event, event_to_dict, update_event
from cronium_app.jobs.create import insert_job
from cronium_app.models import Event, Job, Workflow, WorkflowRun
from cronium_app.scheduler.firing import adopt_unscheduled, fire_due
from cronium_app.scheduler.loop import Scheduler
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.workflows.schemas import WorkflowIn
from cronium_app.workflows.service import create_workflow, delete_workflow, replace_workflow, workflow_to_dict
from tests.integration.test_job_retries import finish, retries_of

_day = itertools.count(1)


@pytest.fixture
def t0() -> datetime:
    """A whole hour well ahead of the real clock, different for every test."""
    return (utcnow() + timedelta(days=next(_day))).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def scheduled(make_event, make_user_id, engine):
    """make_event for schedules (one owner per test); parks them when the test ends."""
    made: list[int] = []
    owner = make_user_id()

    def factory(**fields) -> Event:
        event = make_event(owner, **fields)
        made.append(event.id)
        return event

    yield factory
    with write_session(engine) as session:
        session.execute(
            sa.update(Event).where(Event.id.in_(made)).values(status="paused", next_fire_at=None, queued_fire_at=None)
        )


def every(seconds: int, t0: datetime, **fields) -> dict:
    return {"scheduleType": "interval", "intervalSeconds": seconds, "startAt": t0, **fields}


def tick(engine, settings, t0: datetime, seconds: float):
    return fire_due(engine, settings, t0 + timedelta(seconds=seconds))


def fire_times(engine, event_id: int) -> list[datetime]:
    """The fire time of each job the schedule created, oldest first."""
    with read_session(engine) as session:
        keys = session.execute(
            sa.select(Job.scheduled_for).where(Job.idempotency_key.like(f"sched:event:{event_id}:%"))
            .order_by(Job.scheduled_for)
        ).scalars().all()
    return list(keys)


def jobs_of(engine, event_id: int) -> list[Job]:
    with read_session(engine) as session:
        return list(session.exec(sa.select(Job).where(Job.event_id == event_id).order_by(Job.scheduled_for)).scalars())


def row(engine, event_id: int) -> Event:
    with read_session(engine) as session:
        return session.get(Event, event_id)


def set_status(engine, job_id: str, status: str) -> None:
    with write_session(engine) as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(status=status))


def update(engine, settings, event: Event, **fields) -> Event:
    with write_session(engine) as session:
        return update_event(session, settings, Access.on_behalf_of(event), event.id, EventUpdate(**fields))


def at(t0: datetime, *seconds: float) -> list[datetime]:
    return [t0 + timedelta(seconds=s) for s in seconds]


# -- firing ------------------------------------------------------------------------


def test_a_due_schedule_creates_one_job_per_fire_time(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="allow"))
    assert row(engine, event.id).next_fire_at == t0
    tick(engine, settings, t0, -0.1)
    assert fire_times(engine, event.id) == []
    for seconds in (0.2, 0.4, 30, 60.1):
        tick(engine, settings, t0, seconds)
    assert fire_times(engine, event.id) == at(t0, 0, 60)
    stored = row(engine, event.id)
    assert stored.next_fire_at == t0 + timedelta(seconds=120) and stored.execution_count == 2


def test_a_scheduled_job_carries_its_key_fire_time_and_the_event_snapshot(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0))
    tick(engine, settings, t0, 0.5)
    (job,) = jobs_of(engine, event.id)
    assert job.idempotency_key == f"sched:event:{event.id}:{isoformat(t0)}"
    assert job.status == "pending" and job.scheduled_for == t0
    assert job.execution["event"] == {"id": event.id, "name": event.name}
    # The bulk insert writes every column a job made one at a time would have.
    assert (job.attempt, job.priority, job.retry_number, job.input, job.retry_of) == (0, 0, 0, None, None)
    assert job.created_at is not None and job.created_at == job.updated_at


def test_a_cron_schedule_fires_at_its_times(engine, settings, scheduled, t0):
    event = scheduled(scheduleType="cron", cronExpression="*/5 * * * *", startAt=t0, overlapPolicy="allow")
    for seconds in (1, 200, 301, 599):
        tick(engine, settings, t0, seconds)
    assert fire_times(engine, event.id) == at(t0, 0, 300)


def test_a_cron_schedule_in_a_time_zone_fires_at_local_time(engine, settings, scheduled, t0):
    event = scheduled(scheduleType="cron", cronExpression="30 9 * * *", timezone="Asia/Tokyo", startAt=t0)
    first = row(engine, event.id).next_fire_at
    assert first.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") == "09:30"
    fire_due(engine, settings, first + timedelta(seconds=0.3))
    assert fire_times(engine, event.id) == [first]


# -- misfires ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("skip", []), ("run_once", [600]), ("run_all", [60 * i for i in range(11)])],
)
def test_misfire_policy_after_downtime(engine, settings, scheduled, t0, policy, expected):
    """Down from before T0 until T0+10:30: fire times T0..T0+10:00 were missed."""
    event = scheduled(**every(60, t0, misfirePolicy=policy, overlapPolicy="allow"))
    report = tick(engine, settings, t0, 630)
    assert fire_times(engine, event.id) == at(t0, *expected)
    assert report.missed >= 1
    assert row(engine, event.id).next_fire_at == t0 + timedelta(seconds=660)


def test_run_all_is_capped(engine, settings, scheduled, t0):
    settings.scheduler_run_all_cap = 5
    event = scheduled(**every(60, t0, misfirePolicy="run_all", overlapPolicy="allow"))
    tick(engine, settings, t0, 3600 + 30)
    assert fire_times(engine, event.id) == at(t0, *(60 * i for i in range(56, 61)))


def test_a_fire_time_late_by_less_than_the_grace_is_not_a_misfire(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, misfirePolicy="skip"))
    tick(engine, settings, t0, settings.scheduler_misfire_grace_s - 0.5)
    assert fire_times(engine, event.id) == [t0]


# -- overlap ----------------------------------------------------------------------------


def test_overlap_skip_gives_no_run_while_the_previous_one_is_going(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="skip"))
    tick(engine, settings, t0, 0.5)
    (first,) = jobs_of(engine, event.id)
    set_status(engine, first.id, "running")
    report = tick(engine, settings, t0, 60.5)
    assert fire_times(engine, event.id) == [t0] and report.skipped >= 1
    set_status(engine, first.id, "completed")
    tick(engine, settings, t0, 120.5)
    assert fire_times(engine, event.id) == at(t0, 0, 120)


def test_overlap_skip_counts_a_manual_run_as_the_previous_run(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0))
    with write_session(engine) as session:
        insert_job(session, user_id=event.user_id, workspace_id=event.workspace_id, event=session.get(Event, event.id))
    tick(engine, settings, t0, 0.5)
    assert fire_times(engine, event.id) == []


def test_overlap_allow_runs_alongside(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="allow"))
    tick(engine, settings, t0, 0.5)
    set_status(engine, jobs_of(engine, event.id)[0].id, "running")
    tick(engine, settings, t0, 60.5)
    assert fire_times(engine, event.id) == at(t0, 0, 60)


def test_overlap_queue_runs_the_waiting_fire_time_when_the_previous_run_ends(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="queue"))
    tick(engine, settings, t0, 0.5)
    (first,) = jobs_of(engine, event.id)
    set_status(engine, first.id, "running")
    tick(engine, settings, t0, 60.5)
    tick(engine, settings, t0, 120.5)  # a second fire time while one waits: dropped
    assert row(engine, event.id).queued_fire_at == t0 + timedelta(seconds=60)
    assert fire_times(engine, event.id) == [t0]
    set_status(engine, first.id, "failed")
    tick(engine, settings, t0, 121)
    assert fire_times(engine, event.id) == at(t0, 0, 60)
    assert row(engine, event.id).queued_fire_at is None


# -- retries of scheduled jobs ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["failed", "timed_out"])
def test_a_failed_scheduled_job_is_retried_with_its_number_and_the_schedule_goes_on(
    engine, settings, scheduled, t0, status
):
    event = scheduled(**every(60, t0, overlapPolicy="allow", retries=2))
    tick(engine, settings, t0, 0.5)
    (job,) = jobs_of(engine, event.id)
    finish(engine, settings, job.id, status)
    (retry,) = retries_of(engine, job.id)
    assert (retry.retry_number, retry.idempotency_key, retry.status) == (1, f"retry:{job.id}", "pending")
    assert retry.scheduled_for > utcnow()  # after its backoff
    tick(engine, settings, t0, 60.5)
    assert fire_times(engine, event.id) == at(t0, 0, 60)  # the retry has its own key, not a fire time's


def test_a_cancelled_scheduled_job_is_not_retried(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, retries=2))
    tick(engine, settings, t0, 0.5)
    (job,) = jobs_of(engine, event.id)
    finish(engine, settings, job.id, "cancelled")
    assert retries_of(engine, job.id) == []


def test_overlap_skip_counts_a_waiting_retry_as_the_previous_run(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, retries=1))
    tick(engine, settings, t0, 0.5)
    finish(engine, settings, jobs_of(engine, event.id)[0].id, "failed")
    report = tick(engine, settings, t0, 60.5)
    assert fire_times(engine, event.id) == [t0] and report.skipped == 1


# -- limits, one-time, start ----------------------------------------------------------------


def test_max_executions_pauses_the_event_when_reached(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="allow", maxExecutions=2))
    for seconds in (0.5, 60.5, 120.5, 180.5):
        tick(engine, settings, t0, seconds)
    assert fire_times(engine, event.id) == at(t0, 0, 60)
    stored = row(engine, event.id)
    assert (stored.status, stored.next_fire_at, stored.execution_count) == ("paused", None, 2)


def test_an_event_paused_by_max_executions_says_why(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, maxExecutions=1))
    assert event_to_dict(row(engine, event.id))["pausedReason"] is None
    tick(engine, settings, t0, 0.5)
    reason = event_to_dict(row(engine, event.id))["pausedReason"]
    assert reason.startswith("maxExecutions reached: ran 1 of 1 times")


def test_an_event_paused_by_hand_gives_no_reason(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, maxExecutions=5))
    assert event_to_dict(update(engine, settings, event, status="paused"))["pausedReason"] is None


def test_max_executions_caps_a_run_all_catch_up(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="allow", misfirePolicy="run_all", maxExecutions=3))
    tick(engine, settings, t0, 630)
    assert fire_times(engine, event.id) == at(t0, 0, 60, 120)
    assert row(engine, event.id).status == "paused"


def test_resuming_an_event_that_used_up_its_runs_is_refused(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, maxExecutions=1))
    tick(engine, settings, t0, 0.5)
    with pytest.raises(Invalid, match="maxExecutions"):
        update(engine, settings, event, status="active")
    resumed = update(engine, settings, event, status="active", maxExecutions=0)
    assert resumed.next_fire_at is not None


def test_a_one_time_schedule_fires_once(engine, settings, scheduled, t0):
    event = scheduled(scheduleType="once", runAt=t0)
    for seconds in (0.5, 60, 3600):
        tick(engine, settings, t0, seconds)
    assert fire_times(engine, event.id) == [t0]
    assert row(engine, event.id).next_fire_at is None


def test_a_one_time_date_in_the_past_is_refused_at_creation(scheduled):
    with pytest.raises(Invalid) as caught:
        scheduled(scheduleType="once", runAt=utcnow() - timedelta(minutes=5))
    assert "is in the past" in caught.value.details["fields"]["runAt"]


def test_an_invalid_schedule_is_refused_with_its_field(scheduled):
    with pytest.raises(Invalid) as caught:
        scheduled(scheduleType="cron", cronExpression="* * *")
    assert caught.value.details["fields"]["cronExpression"].startswith("cron expression must have 5 or 6 fields")


def test_resuming_a_one_time_schedule_whose_date_has_passed_is_refused(engine, settings, scheduled, t0):
    event = scheduled(scheduleType="once", runAt=t0, status="paused")
    with write_session(engine) as session:  # time passes
        session.execute(sa.update(Event).where(Event.id == event.id).values(run_at=utcnow() - timedelta(hours=1)))
    with pytest.raises(Invalid) as caught:
        update(engine, settings, event, status="active")
    assert "has passed" in caught.value.details["fields"]["runAt"]
    assert row(engine, event.id).status == "paused"


def test_start_at_holds_the_first_fire(engine, settings, scheduled, t0):
    event = scheduled(scheduleType="cron", cronExpression="* * * * *", startAt=t0 + timedelta(minutes=30))
    tick(engine, settings, t0, 60)
    assert fire_times(engine, event.id) == []
    assert row(engine, event.id).next_fire_at == t0 + timedelta(minutes=30)


# -- changes apply at once -------------------------------------------------------------------


def test_pause_stops_firing_and_resume_starts_again(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0))
    paused = update(engine, settings, event, status="paused")
    assert paused.next_fire_at is None
    tick(engine, settings, t0, 0.5)
    assert fire_times(engine, event.id) == []
    resumed = update(engine, settings, event, status="active")
    assert resumed.next_fire_at == t0
    tick(engine, settings, t0, 0.7)
    assert fire_times(engine, event.id) == [t0]


def test_editing_the_schedule_reschedules(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0))
    edited = update(engine, settings, event, intervalSeconds=600, startAt=t0 + timedelta(hours=1))
    assert edited.next_fire_at == t0 + timedelta(hours=1)
    tick(engine, settings, t0, 0.5)
    assert fire_times(engine, event.id) == []


def test_switching_to_manual_stops_firing(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0))
    assert update(engine, settings, event, scheduleType="manual").next_fire_at is None


def test_editing_other_fields_keeps_the_next_fire_time(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="allow"))
    tick(engine, settings, t0, 0.5)
    renamed = update(engine, settings, event, name="renamed", intervalSeconds=60, startAt=t0)
    assert renamed.next_fire_at == t0 + timedelta(seconds=60)


def test_a_deleted_event_fires_no_more(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0))
    with write_session(engine) as session:
        delete_event(session, Access.on_behalf_of(event), event.id)
    tick(engine, settings, t0, 0.5)
    assert fire_times(engine, event.id) == []


# -- never twice ------------------------------------------------------------------------------


def test_a_stale_scheduler_meets_the_idempotency_key(engine, settings, scheduled, t0):
    """A scheduler that read the row before the first one moved it on (or a
    restart that replays a tick) computes the same fire time: no second job."""
    event = scheduled(**every(60, t0))
    tick(engine, settings, t0, 0.5)
    with write_session(engine) as session:
        session.execute(sa.update(Event).where(Event.id == event.id).values(next_fire_at=t0))
    tick(engine, settings, t0, 0.6)
    assert fire_times(engine, event.id) == [t0]
    assert row(engine, event.id).execution_count == 1


def test_two_concurrent_fire_loops_create_exactly_one_job_per_fire_time(engine, settings, scheduled, t0):
    settings.scheduler_batch = 7  # many small transactions, so the two loops interleave
    events = [scheduled(**every(60, t0, overlapPolicy="allow")) for _ in range(40)]
    errors: list[BaseException] = []

    def loop(barrier: threading.Barrier, seconds: float) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                tick(engine, settings, t0, seconds)
        except BaseException as exc:  # reported below
            errors.append(exc)

    for seconds in (0.5, 60.5, 121):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=loop, args=(barrier, seconds)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert errors == []
    for event in events:
        assert fire_times(engine, event.id) == at(t0, 0, 60, 120)
        assert row(engine, event.id).execution_count == 3


# -- workflows ------------------------------------------------------------------------------------


def test_a_scheduled_workflow_starts_runs_with_its_idempotency_key(engine, settings, make_event, t0):
    step_event = make_event()
    data = WorkflowIn(
        name="nightly", steps=[{"name": "one", "eventId": step_event.id}],
        scheduleType="interval", intervalSeconds=60, startAt=t0,
    )
    with write_session(engine) as session:
        workflow = create_workflow(session, Access.on_behalf_of(step_event), data)
    try:
        assert workflow.next_fire_at == t0
        tick(engine, settings, t0, 0.5)
        tick(engine, settings, t0, 60.5)  # overlap skip: the first run is still going
        with read_session(engine) as session:
            runs = session.execute(
                sa.select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id)
            ).scalars().all()
            assert [r.idempotency_key for r in runs] == [f"sched:workflow:{workflow.id}:{isoformat(t0)}"]
            steps = session.execute(sa.select(Job).where(Job.workflow_run_id == runs[0].id)).scalars().all()
            assert len(steps) == 1
        with write_session(engine) as session:
            paused = replace_workflow(session, Access.on_behalf_of(step_event), workflow.id, data.model_copy(update={"status": "paused"}))
            assert paused.next_fire_at is None
    finally:
        with write_session(engine) as session:
            session.execute(sa.update(Workflow).where(Workflow.id == workflow.id).values(status="paused", next_fire_at=None))


@pytest.fixture
def make_workflow(engine, make_event):
    """A one-step workflow with schedule fields; parked when the test ends."""
    made: list[int] = []

    def factory(**fields) -> tuple[Workflow, WorkflowIn]:
        step_event = make_event()
        data = WorkflowIn(name="scheduled flow", steps=[{"name": "one", "eventId": step_event.id}], **fields)
        with write_session(engine) as session:
            workflow = create_workflow(session, Access.on_behalf_of(step_event), data)
        made.append(workflow.id)
        return workflow, data

    yield factory
    with write_session(engine) as session:
        session.execute(
            sa.update(Workflow).where(Workflow.id.in_(made)).values(status="paused", next_fire_at=None, queued_fire_at=None)
        )


def workflow_fire_times(engine, workflow_id: int) -> list[str]:
    with read_session(engine) as session:
        return list(session.execute(
            sa.select(WorkflowRun.idempotency_key).where(WorkflowRun.workflow_id == workflow_id)
            .order_by(WorkflowRun.id)
        ).scalars())


def workflow_key(workflow: Workflow, fire_time: datetime) -> str:
    return f"sched:workflow:{workflow.id}:{isoformat(fire_time)}"


def test_editing_a_workflows_schedule_reschedules(engine, make_workflow, settings, t0):
    workflow, data = make_workflow(**every(60, t0, overlapPolicy="allow"))
    with write_session(engine) as session:
        edited = replace_workflow(session, Access.on_behalf_of(workflow), workflow.id,
                                  data.model_copy(update={"interval_seconds": 600, "start_at": t0 + timedelta(hours=1)}))
        assert edited.next_fire_at == t0 + timedelta(hours=1)
    tick(engine, settings, t0, 0.5)
    tick(engine, settings, t0, 3600.5)
    assert workflow_fire_times(engine, workflow.id) == [workflow_key(workflow, t0 + timedelta(hours=1))]


def test_a_deleted_workflow_fires_no_more(engine, make_workflow, settings, t0):
    workflow, _ = make_workflow(**every(60, t0))
    with write_session(engine) as session:
        delete_workflow(session, Access.on_behalf_of(workflow), workflow.id)
    report = tick(engine, settings, t0, 0.5)
    assert report.created == 0 and workflow_fire_times(engine, workflow.id) == []


@pytest.mark.parametrize(("policy", "expected"), [("skip", []), ("run_once", [600]), ("run_all", [0, 300, 600])])
def test_a_workflows_misfire_policy_after_downtime(engine, make_workflow, settings, t0, policy, expected):
    workflow, _ = make_workflow(**every(300, t0, misfirePolicy=policy, overlapPolicy="allow"))
    tick(engine, settings, t0, 630)
    assert workflow_fire_times(engine, workflow.id) == [workflow_key(workflow, t) for t in at(t0, *expected)]


def test_a_workflow_paused_by_max_executions_says_why(engine, make_workflow, settings, t0):
    workflow, _ = make_workflow(**every(60, t0, overlapPolicy="allow", maxExecutions=2))
    for seconds in (0.5, 60.5, 120.5):
        tick(engine, settings, t0, seconds)
    assert len(workflow_fire_times(engine, workflow.id)) == 2
    with read_session(engine) as session:
        shown = workflow_to_dict(session, session.get(Workflow, workflow.id))
    assert (shown["status"], shown["nextFireAt"]) == ("paused", None)
    assert shown["pausedReason"].startswith("maxExecutions reached: ran 2 of 2 times")


# -- daylight saving time, through the loop on a fake clock ------------------------------------
# The loop sleeps until the soonest fire time (at most a poll); here the clock
# jumps there instead. The transitions are the zones' next real ones, so that
# the schedules are saved (and validated) as a user would save them today.


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def next_transition(tz_name: str, forward: bool) -> date:
    """The first local date, at least three days ahead, on which the zone's
    clocks go forward (spring) or back (autumn)."""
    tz = ZoneInfo(tz_name)
    day = (utcnow() + timedelta(days=3)).date()
    for _ in range(800):
        before = datetime.combine(day, time(0), tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(0), tz).utcoffset()
        if before != after and (after > before) == forward:
            return day
        day += timedelta(days=1)
    raise AssertionError(f"{tz_name} has no daylight saving time")


def run_loop(engine, settings, start: datetime, end: datetime) -> int:
    """Drive the scheduler loop on a fake clock from `start` to `end`; returns its tick count."""
    settings.scheduler_poll_s = 3 * 3600  # the clock jumps to the soonest fire time, or this far
    clock = FakeClock(start)
    scheduler = Scheduler(engine, settings, clock)
    ticks = 0
    while clock.now < end:
        scheduler.tick()
        ticks += 1
        clock.now += timedelta(seconds=scheduler.seconds_to_next())
    return ticks


def local_fires(engine, event_id: int, tz_name: str) -> list[str]:
    return [t.astimezone(ZoneInfo(tz_name)).isoformat() for t in fire_times(engine, event_id)]


def around(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """Local midnight the day before the transition, and the one two days after it (UTC)."""
    tz = ZoneInfo(tz_name)
    return (datetime.combine(day - timedelta(days=1), time(0), tz).astimezone(ZoneInfo("UTC")),
            datetime.combine(day + timedelta(days=2), time(0), tz).astimezone(ZoneInfo("UTC")))


@pytest.mark.parametrize(
    ("tz_name", "forward", "cron", "expected"),
    [
        # The day before, the day of, the day after: local time and offset.
        # 02:30 does not exist the night clocks go forward: it runs once, as the clock leaves the gap.
        ("Europe/Berlin", True, "30 2 * * *", ["02:30:00+01:00", "03:30:00+02:00", "02:30:00+02:00"]),
        ("America/New_York", True, "30 2 * * *", ["02:30:00-05:00", "03:30:00-04:00", "02:30:00-04:00"]),
        # The night clocks go back, the wall time happens twice: it runs the first time only.
        ("Europe/Berlin", False, "30 2 * * *", ["02:30:00+02:00", "02:30:00+02:00", "02:30:00+01:00"]),
        ("America/New_York", False, "30 1 * * *", ["01:30:00-04:00", "01:30:00-04:00", "01:30:00-05:00"]),
    ],
    ids=["berlin-spring", "new-york-spring", "berlin-autumn", "new-york-autumn"],
)
def test_a_daily_run_across_a_dst_transition_is_neither_skipped_nor_doubled(
    engine, settings, scheduled, tz_name, forward, cron, expected
):
    day = next_transition(tz_name, forward)
    start, end = around(day, tz_name)
    event = scheduled(scheduleType="cron", cronExpression=cron, timezone=tz_name, startAt=start, overlapPolicy="allow")
    run_loop(engine, settings, start, end)
    days = [(day + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]
    assert local_fires(engine, event.id, tz_name) == [f"{d}T{t}" for d, t in zip(days, expected)]


@pytest.mark.parametrize(("forward", "runs"), [(True, 23), (False, 25)], ids=["spring", "autumn"])
def test_an_hourly_run_across_a_dst_transition_keeps_every_elapsed_hour(engine, settings, scheduled, forward, runs):
    tz_name = "Europe/Berlin"
    day = next_transition(tz_name, forward)
    start, _ = around(day, tz_name)
    event = scheduled(scheduleType="cron", cronExpression="0 * * * *", timezone=tz_name, startAt=start,
                      overlapPolicy="allow")
    run_loop(engine, settings, start, start + timedelta(days=3))
    on_the_day = [t for t in fire_times(engine, event.id) if t.astimezone(ZoneInfo(tz_name)).date() == day]
    assert len(on_the_day) == runs
    assert [b - a for a, b in zip(on_the_day, on_the_day[1:])] == [timedelta(hours=1)] * (runs - 1)


@pytest.mark.parametrize("forward", [True, False], ids=["spring", "autumn"])
def test_run_all_after_downtime_over_a_dst_transition_runs_each_missed_day_once(engine, settings, scheduled, forward):
    tz_name = "Europe/Berlin"
    day = next_transition(tz_name, forward)
    start, end = around(day, tz_name)
    event = scheduled(scheduleType="cron", cronExpression="30 2 * * *", timezone=tz_name, startAt=start,
                      misfirePolicy="run_all", overlapPolicy="allow")
    fire_due(engine, settings, end)  # the app was down from before the first fire time until now
    fires = local_fires(engine, event.id, tz_name)
    assert [f[:10] for f in fires] == [(day + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]


def test_a_broken_row_is_put_off_and_does_not_stop_the_others(engine, settings, scheduled, t0):
    good = [scheduled(**every(60, t0, overlapPolicy="allow")) for _ in range(3)]
    broken = scheduled(**every(60, t0))
    with write_session(engine) as session:  # data no save would accept: the zone vanished
        session.execute(sa.update(Event).where(Event.id == broken.id).values(timezone="Gone/Away"))
    report = tick(engine, settings, t0, 0.5)
    assert report.failed == 1
    assert all(fire_times(engine, event.id) == [t0] for event in good)
    assert fire_times(engine, broken.id) == []
    assert row(engine, broken.id).next_fire_at == t0 + timedelta(seconds=0.5) + timedelta(seconds=60)


def test_schedules_saved_without_a_next_fire_time_are_adopted_at_start(engine, settings, scheduled, t0):
    """Rows from before the scheduler's migration have schedule fields but no
    next fire time; the loop gives them one when it starts."""
    event = scheduled(**every(60, t0))
    once_passed = scheduled(scheduleType="once", runAt=t0)
    manual = scheduled()

    def forget(event_id: int) -> None:
        with write_session(engine) as session:
            session.execute(sa.update(Event).where(Event.id == event_id).values(next_fire_at=None))

    forget(event.id)
    adopt_unscheduled(engine, t0 - timedelta(hours=1))
    assert row(engine, event.id).next_fire_at == t0
    forget(once_passed.id)
    adopt_unscheduled(engine, t0 + timedelta(hours=1))  # its date has passed: nothing to adopt
    assert row(engine, once_passed.id).next_fire_at is None
    assert row(engine, manual.id).next_fire_at is None
