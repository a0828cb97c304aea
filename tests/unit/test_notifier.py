from __future__ import annotations

import asyncio
import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from cronium_app.jobs import wake
from cronium_app.jobs.wake import JobNotifier, wake_workers_after_commit


def test_notify_from_another_thread_wakes_a_waiter():
    notifier = JobNotifier()

    async def scenario() -> bool:
        waiter = asyncio.create_task(notifier.wait(5))
        await asyncio.sleep(0.05)
        threading.Thread(target=notifier.notify).start()
        return await waiter

    assert asyncio.run(scenario()) is True


def test_wait_times_out_without_a_notification():
    assert asyncio.run(JobNotifier().wait(0.05)) is False


@pytest.fixture
def notified(monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(wake.notifier, "notify", lambda: calls.append("notify"))
    return calls


@pytest.fixture
def engine():
    engine = sa.create_engine("sqlite://")
    yield engine
    engine.dispose()


def test_a_transaction_that_queues_work_wakes_the_workers_once_when_it_commits(engine, notified):
    with Session(engine) as session:
        with session.begin():
            session.execute(sa.text("select 1"))
            wake_workers_after_commit(session)
            with session.begin_nested():  # a savepoint's commit is not the commit
                wake_workers_after_commit(session)
            assert notified == []
        assert notified == ["notify"]


def test_a_rolled_back_transaction_wakes_no_one(engine, notified):
    with Session(engine) as session:
        with pytest.raises(RuntimeError):
            with session.begin():
                session.execute(sa.text("select 1"))
                wake_workers_after_commit(session)
                raise RuntimeError("the request failed")
        with session.begin():  # the next transaction of the same session
            session.execute(sa.text("select 1"))
    assert notified == []


def test_a_transaction_that_queues_nothing_wakes_no_one(engine, notified):
    with Session(engine) as session, session.begin():
        session.execute(sa.text("select 1"))
    assert notified == []
