from __future__ import annotations

import asyncio
import threading

from cronium_app.jobs.notifier import JobNotifier


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
