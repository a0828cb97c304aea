"""The Reflex app: wires the API, the lifespan tasks and the pages."""

from __future__ import annotations

import reflex as rx

from cronium_app import lifecycle
from cronium_app.api.app import build_api
from cronium_app.pages import register_pages
from cronium_app.scheduler import loop as scheduler_loop
from cronium_app.session_check import SessionCheck
from cronium_app.settings import get_settings

settings = get_settings()
settings.assert_safe_for_production()

app = rx.App(
    api_transformer=build_api(settings),
    head_components=[rx.el.link(rel="icon", href="/favicon.ico", type="image/x-icon")],
)
app.register_lifespan_task(lifecycle.startup, settings=settings)
app.register_lifespan_task(lifecycle.sweep_forever, settings=settings)
app.register_lifespan_task(lifecycle.reconcile_workflows_forever, settings=settings)
app.register_lifespan_task(lifecycle.clean_history_forever, settings=settings)
app.register_lifespan_task(scheduler_loop.run_forever, settings=settings)
app.add_middleware(SessionCheck())
register_pages(app)
