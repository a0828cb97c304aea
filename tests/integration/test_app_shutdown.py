"""The app stops within its grace when told to, however the signals come:
twice SIGTERM 10 ms apart, or SIGINT then SIGTERM, while workers hold long
polls open. (The server's own handler could block its process for good on
a second signal; shutdown.py passes only the first on.) Ten tries each
way (twenty in all), since the hang it guards against came about one time
in two."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from tests.support.app_server import ORCHESTRATOR_TOKEN, AppServer
from tests.support.databases import migrated_database

GRACE_S = 15.0
TRIES = 10
LONG_POLLS = 4

pytestmark = pytest.mark.slow


def _long_poll(url: str, worker: str) -> None:
    headers = {"Authorization": f"Bearer {ORCHESTRATOR_TOKEN}", "X-Worker-Id": worker}
    try:
        httpx.get(f"{url}/api/internal/jobs/queue", params={"wait": 30}, headers=headers, timeout=60)
    except httpx.HTTPError:
        pass  # the app went away mid-poll: what this test does to it


def _stop_seconds(url: str, first: signal.Signals) -> float | None:
    """Seconds the app took to exit after the two signals; None if it did not within the grace."""
    with AppServer(database_url=url) as app:
        polls = [threading.Thread(target=_long_poll, args=(app.url, f"w{n}"), daemon=True) for n in range(LONG_POLLS)]
        for poll in polls:
            poll.start()
        time.sleep(0.5)  # the polls are waiting in the app
        began = time.monotonic()
        os.killpg(app.process.pid, first)
        time.sleep(0.01)
        os.killpg(app.process.pid, signal.SIGTERM)
        deadline = began + GRACE_S
        while app.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return time.monotonic() - began if app.process.poll() is not None else None


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM-SIGTERM", "SIGINT-SIGTERM"])
def test_two_quick_signals_stop_the_app_within_its_grace_every_time(first):
    with migrated_database("cronium_shutdown_test") as url:
        seconds = [_stop_seconds(url, first) for _ in range(TRIES)]
    assert None not in seconds, f"the app hung on {seconds.count(None)} of {TRIES} tries: {seconds}"
