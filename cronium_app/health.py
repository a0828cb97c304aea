"""Is this app process fit to serve? For load balancers and orchestrators
(`/healthz`, `/readyz` in api/health.py).

Ready means: the process is not stopping, the database answers and its
schema is at the newest migration this code knows, and Redis answers when
REDIS_URL is set (the web UI's state lives there). Each check runs in a
thread and is given up after CHECK_TIMEOUT_S: a database that does not
answer makes the app unready, not the probe hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from cronium_app import migrations, shutdown
from cronium_app.db import get_engine
from cronium_app.settings import Settings

CHECK_TIMEOUT_S = 3.0
OK = "ok"


@dataclass(frozen=True)
class Readiness:
    # check -> "ok", or what is wrong
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(result == OK for result in self.checks.values())


def database_problem() -> str | None:
    with get_engine().connect() as connection:
        current = migrations.current_revision(connection)
    head = migrations.head_revision()
    if current != head:
        return f"the schema is at {current or 'no migration'}, this code needs {head} (the app migrates as it starts)"
    return None


def redis_problem(url: str) -> str | None:
    client = redis.Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_S, socket_timeout=CHECK_TIMEOUT_S)
    try:
        client.ping()
    finally:
        client.close()
    return None


async def _run(check: Callable[[], str | None]) -> str:
    try:
        problem = await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT_S)
    except asyncio.TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    return problem or OK


async def readiness(settings: Settings) -> Readiness:
    checks: dict[str, Callable[[], str | None]] = {"database": database_problem}
    if settings.redis_url:
        checks["redis"] = lambda: redis_problem(settings.redis_url)
    results = await asyncio.gather(*(_run(check) for check in checks.values()))
    found = dict(zip(checks, results))
    if shutdown.stopping():
        found["process"] = "stopping"
    return Readiness(found)
