"""The `docker run` a remoteDocker job gets on its server: the same clamped
limits as a local container, and anonymous volumes removed with it."""

from __future__ import annotations

from orchestrator_worker.executors.remote import RemoteRunner
from orchestrator_worker.jobs import ClaimedJob
from orchestrator_worker.settings import WorkerSettings

SETTINGS = WorkerSettings(_env_file=None, ORCHESTRATOR_TOKEN="unit-test-token")


def command_for(resources: dict) -> str:
    job = ClaimedJob(
        id="job-1", attempt=1, type="bash", user_id=1, input=None, log_seq_start=1,
        execution={"type": "bash", "script": "true", "resources": resources, "target": {"serverIds": [1], "serverTags": [], "docker": True}},  # type: ignore[typeddict-item]
    )
    runner = RemoteRunner(SETTINGS, client=None, proxy=None)  # type: ignore[arg-type]
    return runner._command(job, "bash", "/tmp/cronium-run.0123abcd", "/tmp/cronium-run.0123abcd.sock", docker=True)


def test_a_tiny_cpu_share_and_no_limits_become_the_minima():
    command = command_for({"cpus": 1e-10, "memoryMb": 0, "pids": -1})
    assert "--cpus 0.01 " in command
    assert "--memory 16m --memory-swap 16m " in command
    assert "--pids-limit 8 " in command


def test_the_container_goes_with_its_anonymous_volumes():
    command = command_for({"cpus": 1, "memoryMb": 256, "pids": 128})
    assert "docker run --rm " in command  # --rm removes them too
    assert "docker rm -f -v cronium-job-1-a1-0123abcd" in command
    assert "docker rm -f cronium" not in command
