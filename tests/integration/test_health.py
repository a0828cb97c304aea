"""/healthz and /readyz on the real app: ready when the database answers at
the newest schema (and Redis, when the app uses it); not ready, with the
reason, when the schema is behind or Redis is away, and ready again once
Redis is back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cronium_app import migrations
from tests.support.app_server import AppServer, wait_for_readiness
from tests.support.databases import empty_database, migrate
from tests.support.redis_server import RedisServer, redis_missing_reason


def readyz(app: AppServer) -> httpx.Response:
    return httpx.get(f"{app.url}/readyz", timeout=10)


def test_healthz_answers(app_server):
    response = httpx.get(f"{app_server.url}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_a_migrated_app_without_redis_is_ready(app_server):
    response = readyz(app_server)
    assert (response.status_code, response.json()) == (200, {"status": "ready", "checks": {"database": "ok"}})


def test_an_app_whose_schema_is_behind_is_not_ready():
    with empty_database("cronium_behind") as url:
        migrate(url, "0008")
        with AppServer(database_url=url) as app:
            response = readyz(app)
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith(
        f"the schema is at 0008, this code needs {migrations.head_revision()}"
    )


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if (reason := redis_missing_reason()) is not None:
        pytest.skip(reason)
    with RedisServer() as server:
        yield server


@pytest.mark.slow
def test_readiness_follows_redis_away_and_back(app_db_url, redis_server):
    # One server process: with Redis, Reflex would start one per core and more.
    overrides = {"REDIS_URL": redis_server.url, "GRANIAN_WORKERS": "1"}
    with AppServer(database_url=app_db_url, env_overrides=overrides) as app:
        ready = readyz(app)
        redis_server.stop()
        away = wait_for_readiness(app.url, 503, timeout=20)
        redis_server.start()
        back = wait_for_readiness(app.url, 200, timeout=20)
    assert (ready.status_code, ready.json()["checks"]) == (200, {"database": "ok", "redis": "ok"})
    assert away.status_code == 503 and away.json()["checks"]["redis"].startswith("unreachable")
    assert back.status_code == 200, back.text
