"""GET /metrics: Prometheus metrics, for a scraper holding
CRONIUM_METRICS_TOKEN (as a bearer token). Unset, the page does not exist
(404 saying how to turn it on): nothing is served to anyone by default."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST

from cronium_app.api.deps import bearer_token, settings_dep
from cronium_app.db import read_session
from cronium_app.errors import NotFound, Unauthorized
from cronium_app.metrics.collector import exposition
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def metrics(authorization: str | None = Header(default=None), settings: Settings = Depends(settings_dep)) -> Response:
    if not settings.metrics_token:
        raise NotFound("metrics are off: set CRONIUM_METRICS_TOKEN and scrape with 'Authorization: Bearer <token>'")
    token = bearer_token(authorization)
    if not hmac.compare_digest(token.encode(), settings.metrics_token.encode()):
        raise Unauthorized("invalid metrics token")
    with read_session() as session:
        body = exposition(session, utcnow())
    return Response(body, media_type=CONTENT_TYPE_LATEST)
