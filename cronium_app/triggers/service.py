"""Webhook triggers: a secret URL (`/api/hooks/{id}/{secret}`) that starts
an event or a workflow from outside, with the request's body as the input.

The URL's secret is shown once (when the trigger is made or rotated) and
kept as its SHA-256 only (it is 256 bits of randomness, so a fast hash is
safe). A wrong id and a wrong secret get the same 404 after the same work:
the hash is always computed and compared in constant time, against a
dummy when no trigger has that id. An optional signing secret (sealed at
rest) makes the trigger check an HMAC-SHA256 of the body: GitHub's
`X-Hub-Signature-256: sha256=<hex>`, or Cronium's own
`X-Cronium-Signature: sha256=<hex>` over "<X-Cronium-Timestamp>.<body>"
(five minutes either way). Calls are counted per trigger (429 past
CRONIUM_HOOK_RATE_LIMIT per CRONIUM_HOOK_RATE_WINDOW), calls with a wrong
URL per client address.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import Session, select

from cronium_app import audit, sealing
from cronium_app.auth.access import Ability, Access
from cronium_app.auth.throttle import Throttle
from cronium_app.bounds import RowId
from cronium_app.errors import CroniumError, Invalid, NotFound, Unauthorized
from cronium_app.ids import new_id
from cronium_app.jobs import create as create_jobs
from cronium_app.jobs import workflow_runs
from cronium_app.models import Event, WebhookTrigger, Workflow
from cronium_app.quotas import check_room
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.tools.schemas import Out

ID_RE = re.compile(r"^hook_[0-9a-z]{26}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_DUMMY_HASH = hashlib.sha256(b"no such trigger").hexdigest()
SIGNATURE_TOLERANCE_S = 300
FORM_MAX_FIELDS = 1000
# Wrong URLs one client address may try in a minute.
WRONG_URLS_PER_ADDRESS = 100


class UnsupportedBody(CroniumError):
    status_code = 415
    code = "unsupported_media_type"


class MalformedBody(CroniumError):
    status_code = 400
    code = "malformed_body"


# -- shapes ----------------------------------------------------------------------------


class TriggerFields(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    # An empty string removes it: the trigger then checks no signature.
    signing_secret: Annotated[str, StringConstraints(max_length=1024)] | None = Field(default=None, alias="signingSecret")


class TriggerCreate(TriggerFields):
    event_id: RowId | None = Field(default=None, alias="eventId")
    workflow_id: RowId | None = Field(default=None, alias="workflowId")


class TriggerUpdate(TriggerFields):
    pass


class TriggerOut(Out):
    id: str
    event_id: int | None
    workflow_id: int | None
    name: str
    signed: bool
    # The URL without its secret: `{urlPrefix}<secret>`.
    url_prefix: str
    created_at: str | None
    rotated_at: str | None
    last_used_at: str | None


class TriggerWithSecret(TriggerOut):
    """Shown once: the whole URL and its secret."""

    url: str
    secret: str


class TriggerList(Out):
    items: list[TriggerOut]


class HookReply(Out):
    trigger_id: str
    job_id: str | None = None
    run_id: str | None = None
    status: str


# -- definitions --------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret(trigger: WebhookTrigger) -> str:
    secret = secrets.token_urlsafe(32)
    trigger.secret_hash = _hash(secret)
    return secret


def _set_signing(settings: Settings, trigger: WebhookTrigger, signing_secret: str | None) -> None:
    if signing_secret is not None:
        trigger.signing_secret = (
            sealing.seal(settings.secret_key, sealing.TRIGGER_SIGNING, signing_secret) if signing_secret else None
        )


def _check_target(session: Session, access: Access, data: TriggerCreate) -> None:
    if (data.event_id is None) == (data.workflow_id is None):
        raise Invalid("name exactly one of eventId and workflowId", field="eventId")
    model, row_id = (Event, data.event_id) if data.event_id is not None else (Workflow, data.workflow_id)
    row = session.get(model, row_id)
    if not access.owns(row):
        raise NotFound(f"{'event' if model is Event else 'workflow'} {row_id} not found")


def create_trigger(session: Session, settings: Settings, access: Access, data: TriggerCreate) -> tuple[WebhookTrigger, str]:
    access.require(Ability.edit, "create webhook triggers")
    check_room(session, WebhookTrigger, access.user_id, settings.max_triggers_per_user, "webhook triggers",
               "CRONIUM_MAX_TRIGGERS_PER_USER")
    _check_target(session, access, data)
    trigger = WebhookTrigger(id=new_id("hook"), user_id=access.user_id, workspace_id=access.workspace_id, event_id=data.event_id, workflow_id=data.workflow_id,
                             name=data.name or "", secret_hash="")
    secret = _new_secret(trigger)
    _set_signing(settings, trigger, data.signing_secret)
    session.add(trigger)
    session.flush()
    audit.record(session, audit.Action.trigger_create, trigger, after=trigger)
    return trigger, secret


def get_trigger(session: Session, access: Access, trigger_id: str) -> WebhookTrigger:
    trigger = session.get(WebhookTrigger, trigger_id) if ID_RE.match(trigger_id) else None
    if not access.owns(trigger):
        raise NotFound(f"webhook trigger {trigger_id[:60]} not found")
    return trigger


def update_trigger(session: Session, settings: Settings, access: Access, trigger_id: str, data: TriggerUpdate) -> WebhookTrigger:
    access.require(Ability.edit, "change webhook triggers")
    trigger = get_trigger(session, access, trigger_id)
    before = audit.snapshot(trigger)
    if data.name is not None:
        trigger.name = data.name
    _set_signing(settings, trigger, data.signing_secret)
    session.add(trigger)
    session.flush()
    audit.record(session, audit.Action.trigger_update, trigger, before=before, after=trigger)
    return trigger


def rotate_trigger(session: Session, access: Access, trigger_id: str) -> tuple[WebhookTrigger, str]:
    """A new secret; the old URL stops working at once."""
    access.require(Ability.edit, "rotate webhook triggers")
    trigger = get_trigger(session, access, trigger_id)
    before = audit.snapshot(trigger)
    secret = _new_secret(trigger)
    trigger.rotated_at = utcnow()
    session.add(trigger)
    session.flush()
    audit.record(session, audit.Action.trigger_rotate, trigger, before=before, after=trigger)
    return trigger, secret


def delete_trigger(session: Session, access: Access, trigger_id: str) -> None:
    access.require(Ability.edit, "delete webhook triggers")
    trigger = get_trigger(session, access, trigger_id)
    audit.record(session, audit.Action.trigger_delete, trigger, before=trigger)
    session.delete(trigger)
    session.flush()


def list_triggers(session: Session, settings: Settings, access: Access, *, event_id: int | None,
                  workflow_id: int | None) -> list[dict[str, Any]]:
    query = select(WebhookTrigger).where(access.scope(WebhookTrigger))
    if event_id is not None:
        query = query.where(WebhookTrigger.event_id == event_id)
    if workflow_id is not None:
        query = query.where(WebhookTrigger.workflow_id == workflow_id)
    rows = session.exec(query.order_by(WebhookTrigger.created_at, WebhookTrigger.id).limit(500)).all()
    return [trigger_to_dict(row, settings) for row in rows]


def hook_url(settings: Settings, trigger_id: str, secret: str = "") -> str:
    return f"{settings.origin}/api/hooks/{trigger_id}/{secret}"


def trigger_to_dict(trigger: WebhookTrigger, settings: Settings, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": trigger.id, "eventId": trigger.event_id, "workflowId": trigger.workflow_id, "name": trigger.name,
        "signed": trigger.signing_secret is not None, "urlPrefix": hook_url(settings, trigger.id),
        "createdAt": isoformat(trigger.created_at), "rotatedAt": isoformat(trigger.rotated_at),
        "lastUsedAt": isoformat(trigger.last_used_at),
    }
    if secret is not None:
        body.update(url=body["urlPrefix"] + secret, secret=secret)
    return body


# -- a call --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _throttles(limit: int, window_s: float) -> tuple[Throttle, Throttle]:
    per_trigger = Throttle("calls of this webhook", limit, window_s, max_wait_s=window_s, max_keys=100_000)
    wrong_urls = Throttle("calls with a wrong webhook URL from this address", WRONG_URLS_PER_ADDRESS, 60.0,
                          max_wait_s=600.0, max_keys=10_000)
    return per_trigger, wrong_urls


def throttles(settings: Settings) -> tuple[Throttle, Throttle]:
    return _throttles(settings.hook_rate_limit, settings.hook_rate_window_s)


def verify(session: Session, settings: Settings, trigger_id: str, secret: str, address: str) -> WebhookTrigger:
    """The trigger the URL names, if its secret is right; else 404, after
    the same hash and comparison either way."""
    throttles(settings)[1].take(address)
    trigger = session.get(WebhookTrigger, trigger_id) if ID_RE.match(trigger_id) else None
    expected = trigger.secret_hash if trigger is not None else _DUMMY_HASH
    if not hmac.compare_digest(_hash(secret).encode(), expected.encode()) or trigger is None:
        raise NotFound("no such webhook")
    throttles(settings)[1].give_back(address)
    return trigger


def _signature_matches(expected_hex: str, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(f"sha256={expected_hex}".encode(), header.strip().encode("utf-8", "replace"))


def check_signature(settings: Settings, trigger: WebhookTrigger, body: bytes, headers: dict[str, str | None]) -> None:
    if trigger.signing_secret is None:
        return
    key = sealing.unseal(settings.secret_key, sealing.TRIGGER_SIGNING, trigger.signing_secret,
                         what="the webhook's signing secret").encode("utf-8")
    github = headers.get("x-hub-signature-256")
    if github is not None:
        if _signature_matches(hmac.new(key, body, hashlib.sha256).hexdigest(), github):
            return
        raise Unauthorized("the X-Hub-Signature-256 signature does not match the body")
    cronium, stamp = headers.get("x-cronium-signature"), headers.get("x-cronium-timestamp") or ""
    if cronium is None:
        raise Unauthorized("this webhook needs a signature: X-Hub-Signature-256 or X-Cronium-Signature")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > SIGNATURE_TOLERANCE_S:
        raise Unauthorized("X-Cronium-Timestamp must be the Unix time of the call, within five minutes")
    expected = hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not _signature_matches(expected, cronium):
        raise Unauthorized("the X-Cronium-Signature signature does not match the timestamp and body")


def parse_body(body: bytes, content_type: str | None) -> Any:
    """The job's input: JSON as it is, a form as an object (a field given
    twice as a list), text as a string, nothing as null."""
    if not body:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("the body is not UTF-8 text") from None
    if media in ("", "application/json") or media.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            raise MalformedBody("the body is not valid JSON") from None
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=FORM_MAX_FIELDS)
        form: dict[str, Any] = {}
        for key, value in pairs:
            form[key] = [*form[key], value] if isinstance(form.get(key), list) else (
                [form[key], value] if key in form else value)
        return form
    if media.startswith("text/"):
        return text
    raise UnsupportedBody("send JSON, a form (application/x-www-form-urlencoded) or text")


def fire(session: Session, settings: Settings, trigger: WebhookTrigger, input: Any,
         idempotency_key: str | None) -> tuple[dict[str, Any], bool]:
    """Queue the event's job or start the workflow's run; (reply, created)."""
    key = f"hook:{trigger.id}:{idempotency_key}" if idempotency_key else None
    trigger.last_used_at = utcnow()
    session.add(trigger)
    if trigger.event_id is not None:
        job, created = create_jobs.for_event(session, settings, Access.on_behalf_of(trigger), event_id=trigger.event_id,
                                             input=input, idempotency_key=key)
        return {"triggerId": trigger.id, "jobId": job.id, "status": "queued"}, created
    run, created = workflow_runs.start_run(session, settings, Access.on_behalf_of(trigger), trigger.workflow_id, input,
                                           idempotency_key=key)
    return {"triggerId": trigger.id, "runId": run.id, "status": run.status}, created
