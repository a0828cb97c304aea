"""The worker's side of the wire format (orchestrator_worker/protocol.py), its
language table and its choice of executor: pure functions, no I/O."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cronium_app.api.internal import CompleteBody
from orchestrator_worker.executors.remote import RemoteRunner, ServerResult
from orchestrator_worker.jobs import ClaimedJob, Outcome
from orchestrator_worker.languages import LANGUAGES, all_helpers_env
from orchestrator_worker.protocol import ClaimedJobBody, ExecutionSpec, claimed_job_body
from orchestrator_worker.settings import WorkerSettings
from orchestrator_worker.ssh.bundle import HELPERS_DIR
from orchestrator_worker.worker import executor_kind

SPEC = ExecutionSpec(
    type="bash",
    script="echo hi",
    http=None,
    timeoutSeconds=12,
    resources={"cpus": 1, "memoryMb": 256, "pids": 128},
    network=None,
    env={"A": "1"},
    image=None,
    event={"id": 7, "name": "hello"},
)


def claim_body(**changes) -> ClaimedJobBody:
    fields = dict(
        id="job_1", attempt=2, type="bash", status="acknowledged", user_id=3, event_id=7, workflow_id=None,
        workflow_run_id=None, execution=SPEC, input={"x": 1}, lease_expires_at="2026-01-01T00:00:30Z",
        created_at="2026-01-01T00:00:00Z", log_seq_start=5,
    )
    return claimed_job_body(**{**fields, **changes})


def job(kind: str = "bash", **execution) -> ClaimedJob:
    return ClaimedJob("job_1", 1, kind, 1, {**SPEC, "type": kind, **execution}, None, 1)


# -- the claim ---------------------------------------------------------------


def test_a_claimed_job_reads_back_what_the_builder_wrote():
    servers = [{"id": 4, "name": "web", "host": "127.0.0.1", "port": 22, "username": "u", "hostKey": None, "password": "p"}]

    claimed = ClaimedJob.from_api(claim_body(execution_token="tok", servers=servers))

    assert claimed == ClaimedJob(
        id="job_1", attempt=2, type="bash", user_id=3, execution=SPEC, input={"x": 1}, log_seq_start=5,
        execution_token="tok", servers=tuple(servers),
    )


def test_the_claim_body_leaves_out_the_token_and_servers_it_was_not_given():
    body = claim_body()

    assert "executionToken" not in body and "servers" not in body
    assert set(body) == ClaimedJobBody.__required_keys__


# -- the result --------------------------------------------------------------


def test_a_result_with_servers_is_what_the_app_accepts():
    servers = [ServerResult({"id": 4, "name": "web"}, "failed", 2, 30, "exit 2").to_api()]
    outcome = Outcome("partial", 2, "1 of 2 servers failed", output=None, metrics={"duration_ms": 40}, servers=servers)

    parsed = CompleteBody.model_validate({"attempt": 1, **outcome.to_api()})

    assert parsed.status == "partial" and parsed.servers[0].server_id == 4 and parsed.servers[0].exit_code == 2


def test_a_result_without_servers_sends_none():
    assert "servers" not in Outcome("completed", 0).to_api()


# -- languages ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_each_language_runs_its_script_from_the_run_directory(name: str):
    language = LANGUAGES[name]

    command = language.command("/run/cronium")

    assert command == [language.interpreter, f"/run/cronium/{language.script_file}"]
    assert Path(language.script_file).suffix == language.suffix


def test_the_helper_environment_points_at_helpers_that_exist():
    env = all_helpers_env(str(HELPERS_DIR))

    paths = [Path(word) for value in env.values() for word in shlex.split(value) if word.startswith(str(HELPERS_DIR))]
    assert set(env) == {"BASH_ENV", "PYTHONPATH", "NODE_PATH", "NODE_OPTIONS"}
    assert len(paths) == 4 and all(path.exists() for path in paths), paths


def test_the_remote_command_runs_the_script_with_its_interpreter():
    runner = RemoteRunner(WorkerSettings(ORCHESTRATOR_TOKEN="unit-test-token"), client=None, proxy=None)  # type: ignore[arg-type]

    command = runner._command(job("python"), "python", "/tmp/cronium-run.ab12", "/tmp/cronium-run.ab12.sock", docker=False)

    assert "exec python3 /tmp/cronium-run.ab12/script.py )" in command


# -- which executor ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "execution", "expected"),
    [
        ("http", {}, "http"),
        ("http", {"target": {"serverIds": [1], "serverTags": [], "docker": False}}, "http"),
        ("bash", {"target": {"serverIds": [1], "serverTags": [], "docker": False}}, "remote"),
        ("python", {}, "container"),
        ("node", {"target": None}, "container"),
    ],
)
def test_each_job_goes_to_the_executor_of_its_kind(kind: str, execution: dict, expected: str):
    assert executor_kind(job(kind, **execution)) == expected

