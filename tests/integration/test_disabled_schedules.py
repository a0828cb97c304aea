"""A disabled account's schedules stop firing, driven by a fake clock on
the real database: its fire times are skipped (no backlog when the account
is enabled again), and they fire again once it is."""

from __future__ import annotations

import sqlalchemy as sa

from cronium_app.db import write_session
from cronium_app.models import User
from cronium_app.timeutil import utcnow
from tests.integration.test_scheduler import every, fire_times, scheduled, t0, tick  # noqa: F401 (fixtures)


def set_disabled(engine, user_id: int, disabled: bool) -> None:
    with write_session(engine) as session:
        session.execute(sa.update(User).where(User.id == user_id).values(disabled_at=utcnow() if disabled else None))


def test_a_disabled_accounts_schedule_skips_its_fire_times_and_resumes_when_enabled(engine, settings, scheduled, t0):
    event = scheduled(**every(60, t0, overlapPolicy="allow"))
    tick(engine, settings, t0, 0)
    assert len(fire_times(engine, event.id)) == 1
    set_disabled(engine, event.user_id, True)
    report = tick(engine, settings, t0, 60)
    report_later = tick(engine, settings, t0, 120)
    assert len(fire_times(engine, event.id)) == 1
    assert report.skipped + report_later.skipped == 2
    set_disabled(engine, event.user_id, False)
    tick(engine, settings, t0, 180)
    times = fire_times(engine, event.id)
    assert len(times) == 2 and (times[-1] - times[0]).total_seconds() == 180
