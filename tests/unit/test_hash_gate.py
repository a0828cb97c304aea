"""The password hash gate: at most N hashes at once; a caller past that
waits a bounded time and is then told the server is busy (503)."""

from __future__ import annotations

import threading
import time

import pytest

from cronium_app.auth.passwords import HashGate
from cronium_app.errors import Busy


def test_a_caller_past_the_limit_waits_then_is_told_the_server_is_busy():
    gate = HashGate(concurrency=1, wait_s=0.2)
    with gate.turn():
        started = time.monotonic()
        with pytest.raises(Busy) as busy:
            with gate.turn():
                pass
        assert time.monotonic() - started >= 0.2
    assert busy.value.status_code == 503
    assert busy.value.headers == {"Retry-After": "1"}
    assert "too many passwords at once" in busy.value.message


def test_at_most_n_hashes_run_at_once():
    gate = HashGate(concurrency=2, wait_s=5)
    running, most = 0, 0
    lock = threading.Lock()

    def hash_something() -> None:
        nonlocal running, most
        with gate.turn():
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)
            with lock:
                running -= 1

    threads = [threading.Thread(target=hash_something) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2


def test_a_turn_given_back_after_an_error_is_free_again():
    gate = HashGate(concurrency=1, wait_s=0.1)
    with pytest.raises(ValueError), gate.turn():
        raise ValueError("boom")
    with gate.turn():
        pass
