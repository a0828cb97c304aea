"""Small helpers shared by the worker's tests: an app of a module's own,
queue a job from an ad-hoc event (or write an event's row past the API's
checks), look at its containers, and check that the worker survived a job
(still alive, container gone, runs the next job)."""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import docker
import sqlalchemy as sa

from tests.support.app_server import AppServer
from tests.support.clients import UserClient, job_lines, wait_for_job
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

_docker: docker.DockerClient | None = None


def remove_containers_of_workers(client: docker.APIClient, prefix: str) -> None:
    """Whatever a failed test left behind: the containers of workers whose
    id starts with `prefix` (killed workers leave theirs)."""
    for info in client.containers(all=True, filters={"label": "cronium.worker"}):
        if (info.get("Labels") or {}).get("cronium.worker", "").startswith(prefix):
            client.remove_container(info["Id"], force=True, v=True)


def docker_client() -> docker.DockerClient:
    global _docker
    if _docker is None:
        _docker = docker.from_env()
    return _docker


@contextlib.contextmanager
def app_with(database_prefix: str, env: dict[str, str | None]) -> Iterator[AppServer]:
    """An app of a module's own: its own database, and these settings."""
    with migrated_database(database_prefix) as url:
        with AppServer(database_url=url, env_overrides=env) as server:
            yield server


def network_gateway(name: str) -> str:
    """The gateway (the host's address) of a Docker network."""
    ipam = docker_client().api.inspect_network(name)["IPAM"]["Config"][0]
    return ipam.get("Gateway") or str(ipaddress.ip_network(ipam["Subnet"])[1])


def job_containers(job_id: str) -> list[dict[str, Any]]:
    """The job's containers, cold or warm: `docker ps -a --filter
    name=^/cronium-<id>-a<n>$` (a cold container is made with that name, a
    warm one is renamed so once the job has it). One list call, no
    per-container inspect that could race with the worker's removal."""
    return docker_client().api.containers(all=True, filters={"name": f"^/cronium-{job_id}-a[0-9]+$"})


def container_attempt(info: dict[str, Any]) -> int:
    """The attempt a listed job container ran (from its name)."""
    return int(info["Names"][0].rsplit("-a", 1)[1])


def wait_for_container(job_id: str, timeout: float = 30.0):
    """The job's container (a docker SDK Container) once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = job_containers(job_id)
        if found:
            try:
                return docker_client().containers.get(found[0]["Id"])
            except docker.errors.NotFound:
                pass  # listed while being removed (an earlier attempt's): look again
        time.sleep(0.05)
    raise AssertionError(f"no container for job {job_id} within {timeout}s")


def assert_container_gone(job_id: str, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while job_containers(job_id):
        if time.monotonic() > deadline:
            left = [(c["Id"][:12], c["State"]) for c in job_containers(job_id)]
            raise AssertionError(f"job {job_id} ended but its container is still there: {left}")
        time.sleep(0.05)


def submit(user: UserClient, script: str, *, kind: str = "bash", name: str = "worker test", **fields: Any) -> str:
    """Create an event with these fields and queue one run of it."""
    event = user.create_event(name=name, type=kind, script=script, **fields)
    return user.execute(event["id"])


def write_event_row(database_url: str, event_id: int, **columns: Any) -> None:
    """Set columns of an event's row directly, past the API's checks (as a
    row written by hand or by an older release): the worker must not trust
    the job spec a run of it gets."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            assignments = ", ".join(f"{column} = :{column}" for column in columns)
            conn.execute(sa.text(f"UPDATE events SET {assignments} WHERE id = :id"), {**columns, "id": event_id})
    finally:
        engine.dispose()


def texts(lines: list[dict[str, Any]], stream: str | None = None) -> list[str]:
    return [item["line"] for item in lines if stream is None or item["stream"] == stream]


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_seconds(job: dict[str, Any]) -> float:
    return (parse_ts(job["completedAt"]) - parse_ts(job["startedAt"])).total_seconds()


class Survival:
    """After a hostile job: the worker process is alive and logged nothing
    critical, the job's container is gone, and a job queued after it ended
    still runs to completion. One probe serves every job that had ended
    before the probe was queued."""

    def __init__(self, user: UserClient, worker: WorkerProcess):
        self.user = user
        self.worker = worker
        self._probe_created: datetime | None = None

    def check(self, job: dict[str, Any]) -> None:
        assert job["completedAt"], job
        assert self.worker.process is not None and self.worker.process.poll() is None, (
            f"the worker died: {self.worker.log_text()[-3000:]}"
        )
        assert " CRITICAL " not in self.worker.log_text(), self.worker.log_text()[-3000:]
        assert_container_gone(job["id"])
        ended = parse_ts(job["completedAt"])
        if self._probe_created is not None and self._probe_created > ended:
            return
        token = secrets.token_hex(4)
        probe_id = submit(self.user, f"echo alive-{token}", name="survival probe")
        probe = wait_for_job(self.user, probe_id, timeout=60)
        assert probe["status"] == "completed" and probe["exitCode"] == 0, probe
        assert texts(job_lines(self.user, probe_id)) == [f"alive-{token}"]
        assert_container_gone(probe_id)
        assert parse_ts(probe["createdAt"]) > ended
        self._probe_created = parse_ts(probe["createdAt"])


def brief(job: dict[str, Any]) -> dict[str, Any]:
    """The parts of a job worth showing when an assertion fails."""
    keys = ("id", "status", "exitCode", "error", "startedAt", "completedAt", "result")
    return {key: job.get(key) for key in keys}
