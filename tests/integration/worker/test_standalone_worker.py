"""A worker host needs only the worker: a virtualenv with nothing but
orchestrator_worker/requirements.txt, and a copy of the orchestrator_worker
package alone on its path (no app, no Reflex), runs a real Bash job against
the real app.

The virtualenv is built once per test session (pip's cache makes that
quick after the first time); it runs in `make test` and in CI's first pass.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.worker.jobkit import assert_container_gone, submit, texts
from tests.support.app_server import REPO_ROOT
from tests.support.clients import job_lines, wait_for_job
from tests.support.worker_process import WorkerProcess

# Not database work: once per CI run is enough (the PostgreSQL pass skips slow tests).
pytestmark = pytest.mark.slow

WORKER_REQUIREMENTS = REPO_ROOT / "orchestrator_worker" / "requirements.txt"
INSTALL_TIMEOUT_S = 600


@dataclass(frozen=True)
class WorkerHost:
    """An interpreter with only the worker's requirements, and a directory
    holding only the orchestrator_worker package."""

    python: Path
    package_root: Path

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env["PYTHONPATH"] = str(self.package_root)
        return env

    def importable(self, modules: list[str]) -> dict[str, str]:
        """module -> "ok" or the error its import raised, in this host's interpreter."""
        probe = (
            "import importlib, json, sys\n"
            "found = {}\n"
            "for name in sys.argv[1:]:\n"
            "    try:\n"
            "        module = importlib.import_module(name)\n"
            "        found[name] = 'ok: ' + str(getattr(module, '__file__', ''))\n"
            "    except Exception as exc:\n"
            "        found[name] = type(exc).__name__\n"
            "print(json.dumps(found))\n"
        )
        result = subprocess.run(
            [str(self.python), "-c", probe, *modules],
            cwd=self.package_root, env=self.environment(), capture_output=True, text=True, timeout=60, check=True,
        )
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def worker_host(tmp_path_factory: pytest.TempPathFactory) -> WorkerHost:
    root = tmp_path_factory.mktemp("worker-host")
    venv = root / "venv"
    # No pip inside (ensurepip takes seconds): this session's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
         "--disable-pip-version-check", "-r", str(WORKER_REQUIREMENTS)],
        check=True, timeout=INSTALL_TIMEOUT_S,
    )
    package_root = root / "src"
    shutil.copytree(
        REPO_ROOT / "orchestrator_worker", package_root / "orchestrator_worker",
        ignore=shutil.ignore_patterns("__pycache__", "requirements.txt"),
    )
    return WorkerHost(python, package_root)


@pytest.fixture(scope="module")
def standalone_worker(worker_app, worker_host: WorkerHost) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(
        worker_app.url,
        python=str(worker_host.python),
        cwd=worker_host.package_root,
        env_overrides={"PYTHONPATH": str(worker_host.package_root)},
    )
    with worker:
        yield worker


def test_the_worker_host_has_neither_the_app_nor_reflex(worker_host: WorkerHost):
    found = worker_host.importable(["cronium_app", "reflex", "sqlmodel", "orchestrator_worker.worker"])

    assert found["cronium_app"] == "ModuleNotFoundError"
    assert found["reflex"] == "ModuleNotFoundError"
    assert found["sqlmodel"] == "ModuleNotFoundError"
    assert found["orchestrator_worker.worker"].startswith(f"ok: {worker_host.package_root}/"), found


def test_a_worker_with_only_its_own_requirements_runs_a_bash_job(worker_user, standalone_worker: WorkerProcess):
    token = secrets.token_hex(4)
    job_id = submit(
        worker_user,
        f'echo "standalone {token}"\necho "to stderr" >&2\ncronium_output \'{{"token": "{token}"}}\'',
        name="standalone worker",
    )

    job = wait_for_job(worker_user, job_id, timeout=60)

    assert (job["status"], job["exitCode"]) == ("completed", 0), job
    lines = job_lines(worker_user, job_id)
    assert texts(lines, "stdout") == [f"standalone {token}"]
    assert texts(lines, "stderr") == ["to stderr"]
    assert job["output"] == {"token": token}  # the runtime helpers reached the app through this worker
    assert f"job {job_id} attempt 1: completed" in standalone_worker.log_text()
    assert_container_gone(job_id)
