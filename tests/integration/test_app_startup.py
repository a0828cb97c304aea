"""What the app does when it starts, observed from outside."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.app_server import AppServer
from tests.support.databases import migrated_database


def test_production_app_refuses_to_start_with_a_weak_secret():
    with migrated_database("cronium_prod_test") as url:
        server = AppServer(
            database_url=url,
            env_overrides={"CRONIUM_ENV": "production", "SECRET_KEY": "guessable", "ORCHESTRATOR_TOKEN": "guessable"},
        )
        try:
            with pytest.raises(RuntimeError, match="exited"):
                server.start(timeout=60)
        finally:
            server.stop()
        assert "refusing to start in production" in server.log_path.read_text()


def test_admin_from_environment_can_log_in():
    with migrated_database("cronium_admin_test") as url:
        env = {"CRONIUM_ADMIN_EMAIL": "root@example.com", "CRONIUM_ADMIN_PASSWORD": "admin-password-1"}
        with AppServer(database_url=url, env_overrides=env) as server:
            # The admin is created by a startup task that may finish just
            # after the server first answers.
            deadline = time.monotonic() + 15
            while True:
                reply = httpx.post(
                    f"{server.url}/api/v1/auth/login",
                    json={"email": "root@example.com", "password": "admin-password-1"},
                )
                if reply.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
    assert reply.status_code == 200 and reply.json()["user"]["role"] == "admin"
