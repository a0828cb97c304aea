"""Times each HTTP request to the API, labelled by the route's template
(`/api/v1/jobs/{job_id}`), never its raw path: one series per route, not per
job. Requests that match no API route (the UI's, unknown paths) are
"other"."""

from __future__ import annotations

import time

from cronium_app import telemetry

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class RequestTimer:
    """Pure ASGI middleware: the route is known once the router has matched
    it (FastAPI leaves it in the scope), so it is read after the call."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_and_note(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            method = scope.get("method", "GET") if scope.get("method") in METHODS else "other"
            telemetry.request_served(method, route, status, time.perf_counter() - began)
