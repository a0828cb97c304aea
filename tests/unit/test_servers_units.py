"""Remote-server pieces that need no server: the circuit breaker, the
credential encryption, the upload bundle, and the outcome of a multi-server run."""

from __future__ import annotations

import io
import tarfile

import pytest

from cronium_app.sealing import Unreadable
from cronium_app.servers import secrets
from orchestrator_worker.control import JobControl, StopReason
from orchestrator_worker.executors.remote import ServerResult, _combine
from orchestrator_worker.ssh import bundle
from orchestrator_worker.ssh.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_the_threshold_and_says_why():
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock)
    for _ in range(3):
        assert breaker.refusal() is None
        breaker.failed("connection refused")
    reason = breaker.refusal()
    assert "3 connection attempts failed in a row" in reason and "connection refused" in reason


def test_breaker_lets_one_trial_through_after_the_cooldown():
    clock = Clock()
    breaker = CircuitBreaker(1, 30, clock)
    breaker.failed("down")
    clock.now += 31
    assert breaker.refusal() is None  # the trial
    assert breaker.refusal() is not None  # nobody else while it runs
    breaker.succeeded()
    assert breaker.refusal() is None


def test_breaker_reopens_when_the_trial_fails():
    clock = Clock()
    breaker = CircuitBreaker(1, 30, clock)
    breaker.failed("down")
    clock.now += 31
    assert breaker.refusal() is None
    breaker.failed("still down")
    assert "still down" in breaker.refusal()


def test_credentials_round_trip_and_are_not_plain_text():
    creds = secrets.Credentials(password="s3cret-pass")
    token = secrets.encrypt("k" * 40, creds)
    assert "s3cret-pass" not in token
    assert secrets.decrypt("k" * 40, token) == creds


def test_credentials_under_another_secret_key_are_refused_clearly():
    token = secrets.encrypt("k" * 40, secrets.Credentials(password="x"))
    with pytest.raises(Unreadable, match="SECRET_KEY changed"):
        secrets.decrypt("j" * 40, token)


def test_credentials_repr_hides_them():
    assert "s3cret" not in repr(secrets.Credentials(private_key="s3cret", password="s3cret"))


def test_env_script_quotes_every_value():
    text = bundle.env_script({"A": "it's $(rm -rf /)", "B": "plain"})
    assert text == "export A='it'\"'\"'s $(rm -rf /)'\nexport B=plain\n"


def test_docker_env_list_refuses_multiline_values():
    with pytest.raises(ValueError, match="line break"):
        bundle.docker_env_list({"A": "one\ntwo"})


def test_bundle_holds_script_env_and_helpers_private():
    data = bundle.build("python", "print(1)", "export X=1\n", None)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert {"script.py", "env.sh", "helpers/python/cronium.py", "helpers/bash/cronium.sh", "helpers/node/global.js"} <= set(names)
        assert all(member.mode == 0o600 for member in tar.getmembers())


def _result(name: str, status: str, code: int | None = 0) -> ServerResult:
    return ServerResult({"id": 1, "name": name}, status, code, 10, None if status == "completed" else f"{name} broke")


@pytest.mark.parametrize(
    "statuses, expected",
    [
        (["completed", "completed"], "completed"),
        (["completed", "failed"], "partial"),
        (["failed", "failed"], "failed"),
    ],
)
def test_job_status_from_server_results(statuses, expected):
    outcome = _combine([_result(f"s{i}", s, 0 if s == "completed" else 1) for i, s in enumerate(statuses)], JobControl(), 60)
    assert outcome.status == expected
    assert [r["status"] for r in outcome.servers] == statuses


def test_a_cancelled_multi_server_job_is_cancelled_not_partial():
    control = JobControl()
    control.request_stop(StopReason.CANCELLED)
    outcome = _combine([_result("a", "completed"), _result("b", "cancelled", None)], control, 60)
    assert outcome.status == "cancelled"


def test_a_run_on_a_stale_connection_is_tried_once_more_on_a_fresh_one():
    import asyncio
    from contextlib import asynccontextmanager

    from orchestrator_worker.executors.remote import RemoteRunner
    from orchestrator_worker.settings import WorkerSettings
    from orchestrator_worker.ssh.pool import StaleConnection

    handed_out: list[str] = []

    class Pool:
        @asynccontextmanager
        async def connection(self, server, pin):
            conn = f"conn-{len(handed_out) + 1}"
            handed_out.append(conn)
            yield conn

    runner = RemoteRunner(WorkerSettings(ORCHESTRATOR_TOKEN="unit-test-token"), client=None, proxy=None)
    runner.pool = Pool()

    async def run_with(conn, *args):
        if conn == "conn-1":
            raise StaleConnection("connection lost")
        return _result("a", "completed")

    runner._run_with = run_with
    from orchestrator_worker.jobs import ClaimedJob

    job = ClaimedJob("job_x", 1, "bash", 1, {}, None, 1)
    result = asyncio.run(runner._run_pooled(job, "bash", {"name": "a"}, None, None, None, 0))
    assert result.status == "completed" and handed_out == ["conn-1", "conn-2"]
