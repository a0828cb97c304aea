"""One JSON error shape for every API: {"error": {"code", "message", ...}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from cronium_app.errors import CroniumError

logger = logging.getLogger(__name__)


class ApiError(BaseModel):
    """What went wrong: a stable code for programs, a message for people, and
    for validation errors the fields at fault."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ErrorEnvelope(BaseModel):
    """Every error reply of every API has this shape."""

    error: ApiError


_ERROR_MEANINGS = {
    400: "The body is not valid JSON (or, for a webhook, not UTF-8 text)",
    401: "No valid API token (Authorization: Bearer <token>)",
    403: "Not allowed",
    404: "Not found (or not yours; also a path the API does not route, such as an id with a line break)",
    409: "Conflicts with the current state (the message says which)",
    410: "The link has been used, withdrawn or has expired (the message says which)",
    413: "Too large (the body, a script, an input or an output)",
    415: "The body's Content-Type is not one this route reads",
    422: "A field is missing or invalid (`error.fields` lists them)",
    429: "Too many requests: wait for Retry-After seconds",
    503: "The server is busy: try again after Retry-After seconds",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error replies a route can give, for the OpenAPI document."""
    return {status: {"model": ErrorEnvelope, "description": _ERROR_MEANINGS[status]} for status in statuses}


# What any route with a JSON body can answer besides its own errors.
BODY_ERRORS = (400, 413, 422)


def error_response(http_status: int, code: str, message: str, **details) -> JSONResponse:
    return JSONResponse(status_code=http_status, content={"error": {"code": code, "message": message, **details}})


def _describe(err: dict) -> str:
    loc = ".".join(str(part) for part in err.get("loc", ()) if part not in ("body",))
    return f"{loc}: {err.get('msg')}" if loc else str(err.get("msg"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CroniumError)
    async def _cronium_error(_request: Request, exc: CroniumError):
        response = error_response(exc.status_code, exc.code, exc.message, **exc.details)
        response.headers.update(getattr(exc, "headers", {}))
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(err.get("type") == "json_invalid" for err in errors):
            return error_response(400, "malformed_json", "request body is not valid JSON")
        problems = [_describe(err) for err in errors[:10]]
        fields = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg"), "type": err.get("type")}
            for err in errors[:50]
        ]
        return error_response(422, "validation_error", "; ".join(problems), fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException):
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        response = error_response(exc.status_code, code, str(exc.detail))
        for name, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Never a traceback to the client; the log has it.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error")
