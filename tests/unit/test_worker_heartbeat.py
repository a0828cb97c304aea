"""What a worker says about itself in its heartbeats (protocol.WorkerInfo):
the app's model of the heartbeat takes what the worker sends, a heartbeat
from an earlier release (no details) still parses, and a worker whose app
is of an earlier release (it refuses the details with a 422) goes on with
leases only."""

from __future__ import annotations

import asyncio
import json

import httpx

from cronium_app.api.internal import HeartbeatBody
from orchestrator_worker.client import OrchestratorClient
from orchestrator_worker.protocol import WorkerInfo, heartbeat_body
from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.worker import Worker

SETTINGS = WorkerSettings(ORCHESTRATOR_TOKEN="unit-test-token", CRONIUM_WORKER_ID="w-unit", CRONIUM_WORKER_CONCURRENCY=5)
INFO = WorkerInfo(host="h", engineVersion="20.10.24", engineHost="docker-h", concurrency=5, running=1, state="running")


def test_the_app_reads_the_details_a_worker_sends():
    body = HeartbeatBody.model_validate(heartbeat_body("w-unit", [("job_1", 2)], {**INFO, "pool": {"ready": 2}}))
    assert body.worker is not None
    assert body.worker.model_dump(by_alias=True, exclude_unset=True) == {**INFO, "pool": {"ready": 2}}


def test_a_heartbeat_of_an_earlier_release_still_parses():
    body = HeartbeatBody.model_validate({"workerId": "w-old", "jobs": [{"id": "job_1", "attempt": 1}]})
    assert body.worker is None


def test_a_worker_says_how_many_it_runs_and_that_it_drains_when_stopping():
    worker = Worker(SETTINGS)
    worker.engine_version, worker.engine_host = "20.10.24", "docker-h"
    worker.active["job_1"] = (object(), object())  # type: ignore[assignment]
    running = worker.info()
    worker.request_shutdown()
    assert (running["concurrency"], running["running"], running["state"]) == (5, 1, "running")
    assert (worker.info()["state"], worker.info("stopped")["state"]) == ("draining", "stopped")
    assert (running["engineVersion"], running["engineHost"]) == ("20.10.24", "docker-h")


def _app_of_an_earlier_release(seen: list[dict]) -> httpx.MockTransport:
    """Refuses a heartbeat body with a field it does not know, as the
    app's models (extra="forbid") did before workers sent their details."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        if "worker" in body:
            return httpx.Response(422, json={"error": {"code": "validation_error", "message": "worker: extra"}})
        return httpx.Response(200, json={"cancel": [], "lost": [], "leaseExpiresAt": None})

    return httpx.MockTransport(handler)


def test_against_an_app_of_an_earlier_release_the_worker_sends_leases_only():
    seen: list[dict] = []

    async def two_heartbeats() -> list[dict]:
        client = OrchestratorClient(SETTINGS, transport=_app_of_an_earlier_release(seen))
        try:
            return [await client.heartbeat([("job_1", 1)], INFO), await client.heartbeat([("job_1", 1)], INFO)]
        finally:
            await client.aclose()

    replies = asyncio.run(two_heartbeats())

    assert [reply["lost"] for reply in replies] == [[], []]
    # Refused once with the details, then leases only, and no details again.
    assert ["worker" in body for body in seen] == [True, False, False]
