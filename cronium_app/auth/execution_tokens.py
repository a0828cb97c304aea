"""Execution tokens: short-lived, signed with SECRET_KEY, scoped to one job,
its owner and one attempt. Issued when a job is claimed; the worker hands it
to the container, whose helpers present it on every runtime API call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from cronium_app.errors import Unauthorized
from cronium_app.settings import Settings
from cronium_app.timeutil import utcnow

ALGORITHM = "HS256"
AUDIENCE = "cronium-runtime"
# Valid a little past the job's own timeout: the stop grace period and the
# last helper calls of a script that is being stopped.
EXPIRY_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class ExecutionClaims:
    job_id: str
    user_id: int
    attempt: int


def issue(settings: Settings, *, job_id: str, user_id: int, attempt: int, timeout_s: float) -> str:
    now = utcnow()
    payload = {
        "sub": job_id,
        "uid": user_id,
        "att": attempt,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=timeout_s) + EXPIRY_SLACK,
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)


def verify(settings: Settings, token: str) -> ExecutionClaims:
    try:
        payload = jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], audience=AUDIENCE)
        return ExecutionClaims(job_id=str(payload["sub"]), user_id=int(payload["uid"]), attempt=int(payload["att"]))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("execution token has expired") from None
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError):
        raise Unauthorized("invalid execution token") from None
