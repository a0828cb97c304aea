"""The FastAPI app that Reflex serves next to the UI (`api_transformer`)."""

from __future__ import annotations

from fastapi import FastAPI

from cronium_app.api import internal, metrics, runtime, session
from cronium_app.api.errors import install_error_handlers
from cronium_app.api.limits import BodySizeLimit
from cronium_app.metrics.http import RequestTimer
from cronium_app.api.v1 import auth, events, jobs, schedules, servers, tokens, variables, workflows
from cronium_app.settings import Settings


def build_api(settings: Settings) -> FastAPI:
    api = FastAPI(
        title="Cronium API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    install_error_handlers(api)
    for router in (auth.router, events.router, jobs.router, variables.router, tokens.router, workflows.router,
                   schedules.router, servers.router):
        api.include_router(router)
    api.include_router(internal.router, include_in_schema=False)
    api.include_router(runtime.router)
    api.include_router(session.router, include_in_schema=False)
    api.include_router(metrics.router)
    api.add_middleware(BodySizeLimit, max_bytes=settings.request_body_max_bytes)
    # Outermost: times the whole request, the body limit's refusals included.
    api.add_middleware(RequestTimer)
    return api
