"""`/healthz` and `/readyz`, for load balancers and orchestrators (no
authentication; they say nothing but whether this process can serve)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from cronium_app import health
from cronium_app.api.deps import settings_dep
from cronium_app.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(settings: Annotated[Settings, Depends(settings_dep)]) -> JSONResponse:
    """200 when this process can serve (database reachable and migrated,
    Redis reachable when configured, not stopping); 503 with what is wrong
    otherwise."""
    readiness = await health.readiness(settings)
    body = {"status": "ready" if readiness.ready else "not ready", "checks": readiness.checks}
    return JSONResponse(body, status_code=200 if readiness.ready else 503)
