"""/api/v1/workers: the workers serving this app, for its administrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cronium_app.api.errors import errors
from cronium_app.api.v1.common import AdminDep, SettingsDep
from cronium_app.db import read_session
from cronium_app.jobs import workers

router = APIRouter(prefix="/api/v1/workers", tags=["workers"], responses=errors(401, 403))


@router.get("")
def list_workers(_admin: AdminDep, settings: SettingsDep) -> dict[str, Any]:
    """Every worker the app has heard from, online ones first: its id, host,
    Docker Engine, concurrency, the jobs it holds now, its container pool
    (when it has one), its last heartbeat, and its status: `online`,
    `draining` (stopping), `stopped`, or `gone` (no heartbeat for
    `goneAfterSeconds`). Workers of earlier releases report only that they
    are alive, and only while they hold jobs."""
    with read_session() as session:
        items = workers.list_workers(session, settings)
    return {"items": items, "goneAfterSeconds": settings.worker_gone_after_s}
