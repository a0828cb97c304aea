"""Errors a caller can cause. Services raise these; the API maps each to one
HTTP status with a JSON body, and the UI shows the message as it is."""

from __future__ import annotations


class CroniumError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(CroniumError):
    status_code = 404
    code = "not_found"


class Conflict(CroniumError):
    status_code = 409
    code = "conflict"


class Invalid(CroniumError):
    status_code = 422
    code = "invalid"


class TooLarge(CroniumError):
    status_code = 413
    code = "too_large"


class Unauthorized(CroniumError):
    status_code = 401
    code = "unauthorized"


class Forbidden(CroniumError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(CroniumError):
    """Too many tries in a while: the caller may try again after
    `retry_after` seconds (the Retry-After header)."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int, **details):
        super().__init__(message, retryAfter=retry_after, **details)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Busy(TooManyRequests):
    """The server is at its limit for this kind of work right now (not the
    caller's fault): try again after `retry_after` seconds."""

    status_code = 503
    code = "busy"
