"""/api/hooks/{trigger id}/{secret}: what starts a job or a workflow run
from outside (cronium_app/triggers). No API token: the URL's secret (and,
when the trigger has one, an HMAC signature of the body) is the credential.

202 with the job's (run's) id; 200 for a repeated Idempotency-Key; 404 for
a wrong id or secret (the same, in constant time); 401 for a missing or
wrong signature; 413 past CRONIUM_HOOK_BODY_MAX_BYTES; 415 for a body that
is neither JSON, a form nor text; 429 past the trigger's rate limit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from cronium_app import audit
from cronium_app.api.deps import client_address, settings_dep
from cronium_app.api.errors import errors
from cronium_app.db import read_session, write_session
from cronium_app.errors import TooLarge
from cronium_app.settings import Settings
from cronium_app.triggers import service
from cronium_app.triggers.service import HookReply

router = APIRouter(prefix="/api/hooks", tags=["webhook triggers"])

SIGNATURE_HEADERS = ("x-hub-signature-256", "x-cronium-signature", "x-cronium-timestamp")


async def _capped_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the body is larger than {limit} bytes")
    return bytes(body)


def _verified(settings: Settings, trigger_id: str, secret: str, address: str):
    with read_session() as session:
        trigger = service.verify(session, settings, trigger_id, secret, address)
        session.expunge(trigger)
        return trigger


def _fire(settings: Settings, trigger_id: str, secret: str, address: str, input: Any, key: str | None):
    with write_session() as session:
        # Looked up again in this transaction: revoked or rotated meanwhile, it is gone.
        trigger = service.verify(session, settings, trigger_id, secret, address)
        # Nobody signed in: the call acts for the trigger's owner.
        audit.context.identify(audit.ActorKind.system, trigger.user_id)
        return service.fire(session, settings, trigger, input, key)


@router.post(
    "/{trigger_id}/{secret}", status_code=202, response_model=HookReply,
    responses={200: {"description": "An earlier call with the same Idempotency-Key started this already"},
               **errors(400, 401, 404, 409, 413, 415, 422, 429)},
)
async def call_hook(
    request: Request,
    response: Response,
    trigger_id: Annotated[str, Path(max_length=64)],
    secret: Annotated[str, Path(max_length=128)],
    settings: Annotated[Settings, Depends(settings_dep)],
    address: Annotated[str, Depends(client_address)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Start the trigger's event or workflow with the body as its input."""
    trigger = await run_in_threadpool(_verified, settings, trigger_id, secret, address)
    service.throttles(settings)[0].take(trigger.id)
    body = await _capped_body(request, settings.hook_body_max_bytes)
    headers = {name: request.headers.get(name) for name in SIGNATURE_HEADERS}
    service.check_signature(settings, trigger, body, headers)
    input = service.parse_body(body, request.headers.get("content-type"))
    reply, created = await run_in_threadpool(_fire, settings, trigger_id, secret, address, input, idempotency_key)
    if not created:
        response.status_code = 200
    return reply
