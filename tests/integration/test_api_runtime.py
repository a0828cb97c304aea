"""The runtime API (/api/runtime/executions/{id}/...) over real HTTP, without
Docker: jobs are claimed with a WorkerClient (standing in for the worker),
execution tokens are the ones the claim hands out or minted here with
`tokens.issue` and the test SECRET_KEY. Also the worker's socket relay
(RuntimeProxy), run in-process on a temporary directory."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cronium_app.auth import execution_tokens as tokens
from cronium_app.settings import Settings
from orchestrator_worker.runtime_proxy import SOCKET_NAME, RuntimeProxy
from orchestrator_worker.settings import WorkerSettings
from tests.support.app_server import SECRET_KEY, AppServer
from tests.integration.shared_users import owner  # noqa: F401 (fixture)
from tests.support.clients import UserClient, WorkerClient, register_user
from tests.support.databases import migrated_database

MIB = 1024 * 1024
VARIABLE_MAX = 1 * MIB  # CRONIUM_VARIABLE_MAX_BYTES default
IO_MAX = 5 * MIB  # CRONIUM_JOB_IO_MAX_BYTES default

APP_SETTINGS = Settings(DATABASE_URL="sqlite://", SECRET_KEY=SECRET_KEY)


def mint(job_id: str, user_id: int, attempt: int, *, timeout_s: float = 60, secret: str = SECRET_KEY) -> str:
    settings = APP_SETTINGS if secret == SECRET_KEY else Settings(DATABASE_URL="sqlite://", SECRET_KEY=secret)
    return tokens.issue(settings, job_id=job_id, user_id=user_id, attempt=attempt, timeout_s=timeout_s)


@dataclass
class Held:
    """A job held by the test's WorkerClient, and its execution token."""

    id: str
    attempt: int
    user_id: int
    token: str


@pytest.fixture(scope="module")
def claimer(app_server) -> Iterator[WorkerClient]:
    client = WorkerClient(app_server.url)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def event_id(owner) -> int:
    return owner.create_event(name="runtime api test", type="bash", script="true # rt-script-marker",
                              envVars={"RT_SECRET": "rt-env-secret"})["id"]


def hold(owner: UserClient, claimer: WorkerClient, event_id: int, *, running: bool = True, input: Any = None) -> Held:
    job_id = owner.execute(event_id, input=input) if input is not None else owner.execute(event_id)
    claimed = claimer.claim_one(job_id)
    assert claimed["executionToken"], claimed
    if running:
        assert claimer.running(job_id, claimed["attempt"]).status_code == 200
    return Held(job_id, claimed["attempt"], owner.user["id"], claimed["executionToken"])


def call(app_server, method: str, job_id: str, sub: str, token: str | None, **kwargs) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, f"{app_server.url}/api/runtime/executions/{job_id}/{sub}", headers=headers,
                         timeout=60, **kwargs)


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:500])
    message = response.json()["error"]["message"]
    assert message
    return message


# -- tokens ----------------------------------------------------------------------


def test_a_held_job_uses_its_token_for_every_route(app_server, owner, claimer, event_id):
    job = hold(owner, claimer, event_id, running=False, input={"x": [1, "ü"]})
    # Acknowledged (not yet running) is enough.
    response = call(app_server, "GET", job.id, "input", job.token)
    assert response.status_code == 200 and response.json() == {"input": {"x": [1, "ü"]}}
    assert claimer.running(job.id, job.attempt).status_code == 200
    assert call(app_server, "PUT", job.id, "variables/rt.one", job.token, json={"value": {"a": 1}}).status_code == 200
    assert call(app_server, "GET", job.id, "variables/rt.one", job.token).json() == {"key": "rt.one", "value": {"a": 1}}
    assert "rt.one" in call(app_server, "GET", job.id, "variables", job.token).json()["keys"]
    assert call(app_server, "POST", job.id, "output", job.token, json={"done": True}).status_code == 200
    assert call(app_server, "POST", job.id, "condition", job.token, json={"condition": True}).json() == {"condition": True}
    event = call(app_server, "GET", job.id, "event", job.token).json()
    assert event["id"] == event_id and event["name"] == "runtime api test" and event["type"] == "bash"
    assert event["job"]["id"] == job.id and event["job"]["attempt"] == job.attempt
    # No script, no env values.
    assert "script" not in event and "rt-script-marker" not in json.dumps(event)
    assert "rt-env-secret" not in json.dumps(event)
    assert call(app_server, "DELETE", job.id, "variables/rt.one", job.token).json() == {"key": "rt.one", "deleted": True}
    assert call(app_server, "GET", job.id, "variables/rt.one", job.token).status_code == 404
    assert owner.job(job.id)["output"] == {"done": True}


def test_token_of_a_finished_job_is_refused(app_server, owner, claimer, event_id):
    job = hold(owner, claimer, event_id)
    assert call(app_server, "GET", job.id, "input", job.token).status_code == 200
    assert claimer.complete(job.id, job.attempt, exitCode=0).status_code == 200
    for method, sub, body in [("GET", "input", None), ("PUT", "variables/rt.late", {"value": 1}),
                              ("POST", "output", {"late": True}), ("GET", "event", None)]:
        response = call(app_server, method, job.id, sub, job.token, json=body)
        assert response.status_code in (401, 403), (method, sub, response.text)
        assert "completed" in error(response, response.status_code)
    assert owner.job(job.id)["output"] is None
    assert owner.http.get("/api/v1/variables/rt.late").status_code == 404


def test_token_of_job_a_on_job_b_path_is_refused(app_server, owner, claimer, event_id):
    job_a = hold(owner, claimer, event_id)
    job_b = hold(owner, claimer, event_id, input="b's input")
    for method, sub, body in [("GET", "input", None), ("POST", "output", {"from": "a"}),
                              ("POST", "condition", {"condition": True}), ("GET", "event", None),
                              ("GET", "variables", None)]:
        message = error(call(app_server, method, job_b.id, sub, job_a.token, json=body), 403)
        assert "another job" in message
    # The same owner, the same attempt: still only its own job. A token minted
    # for job B's id but another user is refused too.
    other_user = mint(job_b.id, job_b.user_id + 1000, job_b.attempt)
    error(call(app_server, "GET", job_b.id, "input", other_user), 403)
    assert call(app_server, "GET", job_b.id, "input", job_b.token).json() == {"input": "b's input"}
    assert owner.job(job_b.id)["output"] is None


def test_token_of_an_earlier_attempt_is_refused(app_server, owner, claimer, event_id):
    first = hold(owner, claimer, event_id)
    assert first.attempt == 1
    assert call(app_server, "GET", first.id, "input", first.token).status_code == 200
    released = claimer.http.post(f"/api/internal/jobs/{first.id}/release",
                                 json={"attempt": first.attempt, "reason": "test"})
    assert released.status_code == 200 and released.json()["status"] == "pending", released.text
    # Pending between attempts: nobody's token is good.
    error(call(app_server, "GET", first.id, "input", first.token), 403)
    claimed = claimer.claim_one(first.id)
    assert claimed["attempt"] == 2
    assert claimer.running(first.id, 2).status_code == 200
    message = error(call(app_server, "GET", first.id, "input", first.token), 403)
    assert "attempt 1" in message and "attempt 2" in message
    # Minting a fresh attempt-1 token does not help either.
    error(call(app_server, "PUT", first.id, "variables/rt.att", mint(first.id, first.user_id, 1), json={"value": 1}), 403)
    assert call(app_server, "GET", first.id, "input", claimed["executionToken"]).status_code == 200
    assert call(app_server, "GET", first.id, "input", mint(first.id, first.user_id, 2)).status_code == 200


def test_missing_garbage_expired_and_foreign_tokens_are_401(app_server, owner, claimer, event_id):
    job = hold(owner, claimer, event_id)
    expired = mint(job.id, job.user_id, job.attempt, timeout_s=-(tokens.EXPIRY_SLACK.total_seconds() + 60))
    foreign = mint(job.id, job.user_id, job.attempt, secret="another-secret-key-0123456789abcdef0123")
    cases = {
        "none": None,
        "garbage": "not-a-token",
        "jwt-shaped garbage": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "expired": expired,
        "another key": foreign,
        # A user API token is not an execution token.
        "user api token": owner.token,
    }
    for name, token in cases.items():
        for method, sub in [("GET", "input"), ("GET", "variables/rt.x")]:
            response = call(app_server, method, job.id, sub, token)
            assert response.status_code == 401, (name, response.text)
    assert "expired" in error(call(app_server, "GET", job.id, "input", expired), 401)
    # The real token still works: nothing above harmed the job.
    assert call(app_server, "GET", job.id, "input", job.token).status_code == 200


# -- limits ----------------------------------------------------------------------


def test_key_format_is_checked(app_server, owner, claimer, event_id):
    job = hold(owner, claimer, event_id)
    for bad in ["bad key", "bad%21key", "a" * 129, "%C3%BCml", "semi%3Bcolon"]:
        for method, body in [("GET", None), ("PUT", {"value": 1}), ("DELETE", None)]:
            response = call(app_server, method, job.id, f"variables/{bad}", job.token, json=body)
            assert "key" in error(response, 422), (bad, method)
        response = call(app_server, "PUT", job.id, f"variables/{bad}", job.token, content=b"1",
                        headers={"Content-Type": "text/plain"})
        error(response, 422)
    longest = "k" * 128
    assert call(app_server, "PUT", job.id, f"variables/{longest}", job.token, json={"value": "ok"}).status_code == 200
    assert call(app_server, "GET", job.id, f"variables/{longest}", job.token).json()["value"] == "ok"
    assert call(app_server, "PUT", job.id, "variables/A-z_0.9", job.token, json={"value": 1}).status_code == 200


def test_variable_value_over_1_mib_is_413(app_server, owner, claimer, event_id):
    job = hold(owner, claimer, event_id)
    fits = "x" * (VARIABLE_MAX - 2)  # 1 MiB exactly as JSON (with its quotes)
    response = call(app_server, "PUT", job.id, "variables/rt.big", job.token, json={"value": fits})
    assert response.status_code == 200, response.text[:300]
    over = "x" * (VARIABLE_MAX - 1)
    assert "limit" in error(call(app_server, "PUT", job.id, "variables/rt.big", job.token, json={"value": over}), 413)
    # Plain text (what the Bash helper sends) has the same limit.
    response = call(app_server, "PUT", job.id, "variables/rt.big", job.token, content=b"y" * (VARIABLE_MAX + 1),
                    headers={"Content-Type": "text/plain"})
    assert "limit" in error(response, 413)
    # The value that fitted is still there, unchanged.
    assert len(owner.http.get("/api/v1/variables/rt.big").json()["value"]) == VARIABLE_MAX - 2


def test_output_over_5_mib_is_413(app_server, owner, claimer, event_id):
    job = hold(owner, claimer, event_id)
    assert call(app_server, "POST", job.id, "output", job.token, json={"small": 1}).status_code == 200
    big = {"data": "z" * (IO_MAX + 10)}
    assert "limit" in error(call(app_server, "POST", job.id, "output", job.token, json=big), 413)
    assert owner.job(job.id)["output"] == {"small": 1}
    # Malformed bodies: 422 with a message.
    error(call(app_server, "POST", job.id, "output", job.token, content=b"{not json",
               headers={"Content-Type": "application/json"}), 422)
    error(call(app_server, "POST", job.id, "condition", job.token, json={"condition": "yes"}), 422)
    error(call(app_server, "PUT", job.id, "variables/rt.k", job.token, json={"no": "value"}), 422)


@pytest.fixture(scope="module")
def limited_app() -> Iterator[AppServer]:
    """An app of its own with a tiny runtime API rate (5 calls, then 1/s)."""
    with migrated_database("cronium_rate_test") as url:
        with AppServer(database_url=url, env_overrides={"CRONIUM_RUNTIME_BURST": "5", "CRONIUM_RUNTIME_RATE": "1"}) as server:
            yield server


def test_more_calls_than_the_rate_limit_are_429(limited_app):
    owner = register_user(limited_app.url)
    claimer = WorkerClient(limited_app.url)
    try:
        event = owner.create_event(name="rate", type="bash", script="true")
        job = hold(owner, claimer, event["id"])
        other = hold(owner, claimer, event["id"])
        began = time.monotonic()
        responses = []
        for _ in range(30):
            responses.append(call(limited_app, "GET", job.id, "input", job.token))
            if responses[-1].status_code != 200:
                break
        elapsed = time.monotonic() - began
        codes = [r.status_code for r in responses]
        # The burst of 5, plus what refilled (1/s) while the calls were made.
        assert 5 <= codes.count(200) <= 5 + int(elapsed) + 1, (codes, elapsed)
        assert "per second" in error(responses[-1], 429)
        # Per job: another job's budget is untouched.
        assert call(limited_app, "GET", other.id, "input", other.token).status_code == 200
        # And the bucket refills (1 per second).
        time.sleep(1.5)
        assert call(limited_app, "GET", job.id, "input", job.token).status_code == 200
    finally:
        owner.http.close()
        claimer.http.close()


# -- the worker's socket relay ---------------------------------------------------


async def raw_get(socket_path: Path, target: str, token: str) -> tuple[int, str]:
    """One GET written byte for byte to the socket: (status, body)."""
    reader, writer = await asyncio.open_unix_connection(str(socket_path))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
                 f"Connection: close\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode()


def test_socket_relay_serves_only_its_own_job(app_server, owner, claimer, event_id):
    mine = hold(owner, claimer, event_id, input="mine")
    other = hold(owner, claimer, event_id, input="other")
    settings = WorkerSettings(ORCHESTRATOR_URL=app_server.url, ORCHESTRATOR_TOKEN="must-not-be-forwarded",
                              CRONIUM_RUNTIME_BODY_MAX_BYTES=str(64 * 1024))

    async def scenario(job_dir: Path) -> dict[str, Any]:
        proxy = RuntimeProxy(settings)
        server = await proxy.serve(mine.id, job_dir)
        socket_path = job_dir / SOCKET_NAME
        assert socket_path.exists()
        results: dict[str, Any] = {}
        try:
            transport = httpx.AsyncHTTPTransport(uds=str(socket_path))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=30) as client:
                auth = {"Authorization": f"Bearer {mine.token}"}

                async def get(path: str, **kw) -> httpx.Response:
                    return await client.get(path, headers={**auth, **kw.pop("headers", {})}, **kw)

                results["own"] = await get(f"/api/runtime/executions/{mine.id}/input")
                results["own_no_token"] = await client.get(f"/api/runtime/executions/{mine.id}/input")
                results["other"] = await get(f"/api/runtime/executions/{other.id}/input")
                # Even with the other job's own token: this socket is mine's.
                results["other_with_its_token"] = await client.get(
                    f"/api/runtime/executions/{other.id}/input", headers={"Authorization": f"Bearer {other.token}"})
                # httpx would normalise a dot segment away: send these raw.
                for name, target in [("traversal", f"/api/runtime/executions/{mine.id}/../{other.id}/input"),
                                     ("encoded_traversal", f"/api/runtime/executions/{mine.id}/%2e%2e/{other.id}/input")]:
                    results[name] = await raw_get(socket_path, target, mine.token)
                results["public_api"] = await get("/api/v1/variables")
                results["internal_api"] = await get("/api/internal/jobs/queue")
                results["prefix_only"] = await get(f"/api/runtime/executions/{mine.id}")
                results["too_big"] = await client.put(
                    f"/api/runtime/executions/{mine.id}/variables/rt.relay", headers=auth,
                    content=json.dumps({"value": "x" * (65 * 1024)}))
                results["put"] = await client.put(
                    f"/api/runtime/executions/{mine.id}/variables/rt.relay", headers=auth, json={"value": [1, "ü"]})
        finally:
            server.close()
            await server.wait_closed()
            await proxy.aclose()
        return results

    with tempfile.TemporaryDirectory(prefix="cronium-relay-") as tmp:
        results = asyncio.run(scenario(Path(tmp)))

    assert results["own"].status_code == 200 and results["own"].json() == {"input": "mine"}
    # The relay adds no credentials of its own: the app refuses a bare request.
    assert results["own_no_token"].status_code == 401
    for name in ("other", "other_with_its_token", "public_api", "internal_api", "prefix_only"):
        response = results[name]
        assert response.status_code == 403, (name, response.text)
        assert "own runtime API" in response.json()["error"]["message"], name
    status, body = results["traversal"]
    assert status == 403 and "own runtime API" in body, (status, body)
    # Percent-encoded dots pass the relay's check, but lead nowhere: the app
    # has no such route, and the token would not open the other job anyway.
    status, body = results["encoded_traversal"]
    assert status in (403, 404), (status, body)
    assert "other" not in body
    assert results["too_big"].status_code == 413
    assert results["put"].status_code == 200, results["put"].text
    assert owner.http.get("/api/v1/variables/rt.relay").json()["value"] == [1, "ü"]
    # Nothing reached the other job.
    assert owner.job(other.id)["output"] is None


def test_socket_relay_waits_for_an_app_that_is_restarting(monkeypatch):
    """Nothing listens on the app's port at first (a restart): the relay
    tries again for a while instead of failing the script's helper call at
    once; past CONNECT_RETRY_S it answers 502."""
    import socket as socket_module

    import orchestrator_worker.runtime_proxy as runtime_proxy

    with socket_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = WorkerSettings(ORCHESTRATOR_URL=f"http://127.0.0.1:{port}", ORCHESTRATOR_TOKEN="unused")
    reply = b'{"input":"late"}'

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (len(reply), reply))
        await writer.drain()
        writer.close()

    async def scenario(job_dir: Path) -> tuple[tuple[int, str], float, tuple[int, str]]:
        proxy = RuntimeProxy(settings)
        relay = await proxy.serve("job_restart", job_dir)
        loop = asyncio.get_running_loop()
        try:
            async def late_app() -> asyncio.AbstractServer:
                await asyncio.sleep(1.5)
                return await asyncio.start_server(handle, "127.0.0.1", port)

            app_task = asyncio.create_task(late_app())
            began = loop.time()
            waited = await raw_get(job_dir / SOCKET_NAME, "/api/runtime/executions/job_restart/input", "t")
            elapsed = loop.time() - began
            app = await app_task
            app.close()
            await app.wait_closed()
            # Gone for good: a 502 once the retry budget is spent.
            monkeypatch.setattr(runtime_proxy, "CONNECT_RETRY_S", 0.5)
            gone = await raw_get(job_dir / SOCKET_NAME, "/api/runtime/executions/job_restart/input", "t")
        finally:
            relay.close()
            await relay.wait_closed()
            await proxy.aclose()
        return waited, elapsed, gone

    with tempfile.TemporaryDirectory(prefix="cronium-relay-") as tmp:
        waited, elapsed, gone = asyncio.run(scenario(Path(tmp)))
    assert waited == (200, reply.decode()), waited
    assert elapsed >= 1.4
    assert gone[0] == 502 and "could not be reached" in gone[1], gone
