"""The Reflex app: wires the API, the lifespan tasks and the pages."""

from __future__ import annotations

import reflex as rx

from cronium_app import lifecycle
from cronium_app.api.app import build_api
from cronium_app.components.shortcuts import shortcuts_script
from cronium_app.pages import register_pages
from cronium_app.scheduler import loop as scheduler_loop
from cronium_app.session_check import SessionCheck
from cronium_app.settings import get_settings

settings = get_settings()
settings.assert_safe_for_production()

api = build_api(settings)
app = rx.App(
    api_transformer=api,
    stylesheets=["/cronium.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.ico", type="image/x-icon"), shortcuts_script()],
)
app.register_lifespan_task(lifecycle.startup, settings=settings)
# The MCP endpoint's session manager (Reflex runs no FastAPI lifespan).
app.register_lifespan_task(api.state.mcp.running)
app.register_lifespan_task(lifecycle.sweep_forever, settings=settings)
app.register_lifespan_task(lifecycle.reconcile_workflows_forever, settings=settings)
app.register_lifespan_task(lifecycle.clean_history_forever, settings=settings)
app.register_lifespan_task(lifecycle.check_late_runs_forever, settings=settings)
app.register_lifespan_task(scheduler_loop.run_forever, settings=settings)
app.add_middleware(SessionCheck())
register_pages(app)
