"""HTTP clients for the API as its two kinds of callers see it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from cronium_app.auth.sessions import SESSION_COOKIE
from cronium_app.jobs.status import TERMINAL
from tests.support.app_server import ORCHESTRATOR_TOKEN

PASSWORD = "correct horse battery"


@dataclass
class UserClient:
    """A registered user with an API token."""

    http: httpx.Client
    user: dict[str, Any]
    token: str

    def create_event(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "test event", "type": "bash", "script": "echo hello"}
        body.update(fields)
        response = self.http.post("/api/v1/events", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def execute(self, event_id: int, **body: Any) -> str:
        response = self.http.post(f"/api/v1/events/{event_id}/execute", json=body or None)
        assert response.status_code == 202, response.text
        return response.json()["jobId"]

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()


def register_user(base_url: str, email: str | None = None, password: str = PASSWORD) -> UserClient:
    email = email or f"user-{secrets.token_hex(6)}@example.com"
    response = httpx.post(f"{base_url}/api/v1/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {body['token']}"}, timeout=30)
    return UserClient(http=http, user=body["user"], token=body["token"])


def session_cookie(base_url: str, email: str, password: str = PASSWORD) -> str:
    """A web UI session of the account: the cookie's value the sign-in API sets."""
    response = httpx.post(f"{base_url}/api/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.cookies[SESSION_COOKIE]


def newest_audit_id(http: httpx.Client) -> int:
    """The id of the newest audit entry `http`'s caller may see (0: none)."""
    items = http.get("/api/v1/audit", params={"limit": 1}).json()["items"]
    return items[0]["id"] if items else 0


def workspace_token(client: UserClient, workspace_id: int, role: str, *, scopes: list[str] | None = None) -> str:
    """A new token of `client`'s account acting in `workspace_id` with `role`
    (`scopes`: ["mcp"] for an MCP-only one)."""
    body: dict[str, Any] = {"name": f"{role}-token", "workspaceId": workspace_id, "role": role}
    if scopes is not None:
        body["scopes"] = scopes
    made = client.http.post("/api/v1/tokens", json=body)
    assert made.status_code == 201, made.text
    return made.json()["token"]


def token_client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"})


def team_workspace(owner: UserClient, name: str, members: dict[str, UserClient]) -> tuple[int, httpx.Client]:
    """A team workspace `owner` owns, with each of `members` added in its
    role (`{"editor": client, ...}`): its id, and an owner's token client for it."""
    created = owner.http.post("/api/v1/workspaces", json={"name": name})
    assert created.status_code == 201, created.text
    workspace_id = created.json()["id"]
    owner_team = token_client(str(owner.http.base_url), workspace_token(owner, workspace_id, "owner"))
    for role, member in members.items():
        added = owner_team.post("/api/v1/workspace/members", json={"email": member.user["email"], "role": role})
        assert added.status_code == 201, added.text
    return workspace_id, owner_team


class WorkerClient:
    """Speaks the orchestrator API as one worker."""

    def __init__(self, base_url: str, worker_id: str | None = None, token: str = ORCHESTRATOR_TOKEN):
        self.worker_id = worker_id or f"worker-{secrets.token_hex(4)}"
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "X-Worker-Id": self.worker_id},
            timeout=60,
        )

    def claim(self, limit: int = 10, wait: float = 0) -> list[dict[str, Any]]:
        response = self.http.get("/api/internal/jobs/queue", params={"limit": limit, "wait": wait})
        assert response.status_code == 200, response.text
        return response.json()["jobs"]

    def claim_one(self, job_id: str, wait: float = 5) -> dict[str, Any]:
        """Claim until the given job comes back (other tests' jobs may share the queue)."""
        for _ in range(50):
            for job in self.claim(limit=50, wait=wait):
                if job["id"] == job_id:
                    return job
        raise AssertionError(f"job {job_id} was never claimed")

    def running(self, job_id: str, attempt: int) -> httpx.Response:
        return self.http.post(f"/api/internal/jobs/{job_id}/status", json={"status": "running", "attempt": attempt})

    def logs(self, job_id: str, attempt: int, lines: list[dict[str, Any]]) -> httpx.Response:
        return self.http.post(f"/api/internal/jobs/{job_id}/logs", json={"attempt": attempt, "logs": lines})

    def complete(self, job_id: str, attempt: int, status: str = "completed", **fields: Any) -> httpx.Response:
        return self.http.post(
            f"/api/internal/jobs/{job_id}/complete", json={"attempt": attempt, "status": status, **fields}
        )

    def heartbeat(self, jobs: list[tuple[str, int]]) -> httpx.Response:
        return self.http.post(
            "/api/internal/heartbeat",
            json={"workerId": self.worker_id, "jobs": [{"id": j, "attempt": a} for j, a in jobs]},
        )


def wait_for_job(user: UserClient, job_id: str, statuses=TERMINAL, timeout: float = 60) -> dict[str, Any]:
    """Poll a job until it reaches one of `statuses`."""
    import time

    deadline = time.monotonic() + timeout
    job = user.job(job_id)
    while job["status"] not in statuses:
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")
        time.sleep(0.1)
        job = user.job(job_id)
    return job


def job_lines(user: UserClient, job_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    after = 0
    while True:
        body = user.http.get(f"/api/v1/jobs/{job_id}/logs", params={"after_seq": after, "limit": 10000}).json()
        lines.extend(body["lines"])
        if not body["lines"]:
            return lines
        after = body["lastSeq"]
