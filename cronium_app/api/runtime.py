"""Runtime API (/api/runtime/executions/{id}/...): what scripts call through
their `cronium` helpers, with the job's execution token as bearer.

Variables are those of the job's workspace. Bash helpers cannot encode or decode JSON
without extra tools, so variable routes also speak plain text: a PUT with
`Content-Type: text/plain` stores the body as JSON if it parses, else as a
string; a GET with `Accept: text/plain` returns a string value raw and any
other value as compact JSON.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import PlainTextResponse

from cronium_app import audit
from cronium_app.api.deps import bearer_token, settings_dep
from cronium_app.api.errors import BODY_ERRORS, errors
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid, NotFound, TooLarge
from cronium_app.auth import execution_tokens as tokens
from cronium_app.auth.access import Access
from cronium_app.auth.execution_tokens import ExecutionClaims
from cronium_app.models import Job
from cronium_app.runtime import service
from cronium_app.settings import Settings
from cronium_app.variables import service as variables

router = APIRouter(prefix="/api/runtime/executions/{job_id}", tags=["runtime"], responses=errors(401, 403, 422, 429))

_limiter: service.RateLimiter | None = None


def _rate_limiter(settings: Settings) -> service.RateLimiter:
    global _limiter
    if _limiter is None:
        _limiter = service.RateLimiter(settings.runtime_requests_per_s, settings.runtime_burst)
    return _limiter


def execution_claims(
    job_id: str,
    authorization: str | None = Header(default=None),
    settings: Settings = Depends(settings_dep),
) -> ExecutionClaims:
    claims = tokens.verify(settings, bearer_token(authorization))
    _rate_limiter(settings).check(claims.job_id)
    with read_session() as session:
        service.authorize(session, claims, job_id)
    # What a script changes (its owner's variables) is its owner's doing, by a job.
    audit.context.identify(audit.ActorKind.worker, claims.user_id)
    return claims


Claims = Annotated[ExecutionClaims, Depends(execution_claims)]
SettingsDep = Annotated[Settings, Depends(settings_dep)]


def _held_job(session, claims: ExecutionClaims) -> Job:
    return service.authorize(session, claims, claims.job_id)


def _job_access(session, claims: ExecutionClaims) -> Access:
    """A script acts in its job's workspace (its variables)."""
    return service.job_access(_held_job(session, claims))


async def _json_body(request: Request, settings: Settings) -> Any:
    raw = await request.body()
    if len(raw) > settings.job_io_max_bytes:
        raise TooLarge(f"body is {len(raw)} bytes; the limit is {settings.job_io_max_bytes}")
    if not raw:
        raise Invalid("a JSON body is required")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid("body is not valid JSON") from None


def _wants_text(accept: str | None) -> bool:
    return bool(accept) and "text/plain" in accept and "application/json" not in accept


def _as_text(value: Any) -> PlainTextResponse:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return PlainTextResponse(text)


@router.get("/input")
def get_input(claims: Claims, accept: str | None = Header(default=None)) -> Response:
    with read_session() as session:
        value = _held_job(session, claims).input
    if _wants_text(accept):
        return _as_text(value)
    return Response(json.dumps({"input": value}, ensure_ascii=False), media_type="application/json")


@router.post("/output", responses=errors(*BODY_ERRORS))
async def post_output(request: Request, claims: Claims, settings: SettingsDep) -> dict[str, Any]:
    data = await _json_body(request, settings)
    with write_session() as session:
        service.set_output(session, settings, _held_job(session, claims), data)
    return {"ok": True}


@router.post("/condition", responses=errors(*BODY_ERRORS))
async def post_condition(request: Request, claims: Claims, settings: SettingsDep) -> dict[str, Any]:
    data = await _json_body(request, settings)
    value = data.get("condition") if isinstance(data, dict) else data
    if not isinstance(value, bool):
        raise Invalid("condition must be true or false")
    with write_session() as session:
        service.set_condition(session, _held_job(session, claims), value)
    return {"condition": value}


@router.get("/event")
def get_event(claims: Claims) -> dict[str, Any]:
    with read_session() as session:
        return service.event_info(session, _held_job(session, claims))


@router.get("/variables")
def list_variable_keys(claims: Claims) -> dict[str, Any]:
    with read_session() as session:
        return {"keys": variables.list_keys(session, _job_access(session, claims), limit=10_000)}


@router.get("/variables/{key}", responses=errors(404))
def get_variable(key: str, claims: Claims, settings: SettingsDep, accept: str | None = Header(default=None)) -> Response:
    """404 when the key does not exist (the helpers turn it into None/null)."""
    with read_session() as session:
        value = variables.runtime_value(settings, variables.get_variable(session, _job_access(session, claims), key))
    if _wants_text(accept):
        return _as_text(value)
    return Response(json.dumps({"key": key, "value": value}, ensure_ascii=False), media_type="application/json")


@router.put("/variables/{key}", responses=errors(*BODY_ERRORS))
async def put_variable(
    key: str, request: Request, claims: Claims, settings: SettingsDep, content_type: str | None = Header(default=None)
) -> dict[str, Any]:
    variables.check_key(key)
    if content_type and content_type.startswith("text/plain"):
        raw = await request.body()
        if len(raw) > settings.variable_value_max_bytes:
            raise TooLarge(f"variable value is {len(raw)} bytes; the limit is {settings.variable_value_max_bytes}")
        text = raw.decode("utf-8", "replace")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
    else:
        body = await _json_body(request, settings)
        if not isinstance(body, dict) or "value" not in body:
            raise Invalid('body must be {"value": ...}')
        value = body["value"]
    with write_session() as session:
        variable, created = variables.set_variable(session, settings, _job_access(session, claims), key, value)
    return {"key": key, "created": created}


@router.delete("/variables/{key}")
def delete_variable(key: str, claims: Claims) -> dict[str, Any]:
    with write_session() as session:
        access = _job_access(session, claims)
        try:
            variables.delete_variable(session, access, key)
        except NotFound:
            return {"key": key, "deleted": False}
    return {"key": key, "deleted": True}
