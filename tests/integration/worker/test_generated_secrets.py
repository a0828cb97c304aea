"""An installation with no secrets configured: the app makes its own on
first start, refuses the values that used to ship in the code, and a
worker started beside it (as `make run` does) finds the token with no
configuration at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orchestrator_worker import local_secrets
from tests.support.app_server import AppServer
from tests.support.clients import register_user, wait_for_job
from tests.support.databases import migrated_database
from tests.support.worker_process import WorkerProcess

# What earlier releases shipped as built-in secrets.
OLD_BUILT_IN_TOKEN = "dev-insecure-orchestrator-token"
UNSET = {"SECRET_KEY": None, "ORCHESTRATOR_TOKEN": None}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cronium-data")


@pytest.fixture(scope="module")
def unconfigured_app(data_dir) -> Iterator[AppServer]:
    with migrated_database("cronium_secrets_test") as url:
        with AppServer(database_url=url, env_overrides={**UNSET, "CRONIUM_DATA_DIR": str(data_dir)}) as server:
            yield server


def _heartbeat(app: AppServer, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Worker-Id": "w-secrets"}
    return httpx.post(f"{app.url}/api/internal/heartbeat", json={"jobs": []}, headers=headers)


def test_the_internal_api_refuses_the_old_built_in_token(unconfigured_app):
    assert _heartbeat(unconfigured_app, OLD_BUILT_IN_TOKEN).status_code == 401


def test_the_internal_api_takes_the_generated_token(unconfigured_app, data_dir):
    generated = local_secrets.read(data_dir)
    assert generated is not None and _heartbeat(unconfigured_app, generated["orchestrator_token"]).status_code == 200


def test_a_worker_beside_the_app_runs_a_job_without_configuration(unconfigured_app, data_dir):
    user = register_user(unconfigured_app.url)
    event = user.create_event(name="no configuration", type="bash", script="echo configured by nobody")
    with WorkerProcess(unconfigured_app.url, env_overrides={"ORCHESTRATOR_TOKEN": None, "CRONIUM_DATA_DIR": str(data_dir)}):
        job = wait_for_job(user, user.execute(event["id"]), timeout=60)
    assert job["status"] == "completed", job
