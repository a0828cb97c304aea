"""A script's environment, wherever it runs (a local container or a remote
server): the event's variables, then the runtime helpers' setup and the
runtime API credentials, set last so an event cannot override them (see
images/runtime/helpers/README.md)."""

from __future__ import annotations

from orchestrator_worker.jobs import ClaimedJob
from orchestrator_worker.languages import all_helpers_env


def job_env(job: ClaimedJob, helpers_dir: str, socket_path: str | None) -> dict[str, str]:
    """`helpers_dir` holds the helpers (python/, node/, bash/); `socket_path`
    is the runtime socket as the script sees it, or None when there is none."""
    env = {str(k): str(v) for k, v in (job.execution.get("env") or {}).items()}
    env.update(all_helpers_env(helpers_dir))
    if socket_path and job.execution_token:
        env.update(
            {
                "CRONIUM_RUNTIME_API": f"unix://{socket_path}",
                "CRONIUM_EXECUTION_ID": job.id,
                "CRONIUM_EXECUTION_TOKEN": job.execution_token,
            }
        )
    return env
