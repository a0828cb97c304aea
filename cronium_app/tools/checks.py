"""What the app itself does with a tool, outside any job: the "test"
action (a fixed message sent at once, from the app, through the same
guard and allow-list as a worker's) and the live preview of templates
(rendered in a sandboxed child process, as a worker renders them)."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool

from cronium_app.auth.access import Ability, Access
from cronium_app.db import read_session, write_session
from cronium_app.errors import Busy
from cronium_app.models import Event, Variable
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.tools import service
from cronium_app.tools.schemas import TemplatePreviewIn, ToolTestIn
from orchestrator_worker.executors.ssrf import AllowList
from orchestrator_worker.tools.deliver import deliver
from orchestrator_worker.tools.kinds import EMAIL, WEBHOOK
from orchestrator_worker.tools.templates import TemplateProblem, referenced_variables, render_isolated

TEST_TIMEOUT_S = 10.0
PREVIEW_TIMEOUT_S = 5.0
# Previews rendering at once in this process (each a child process).
_previews = asyncio.Semaphore(4)
PREVIEW_WAIT_S = 5.0
SECRET_SHOWN = "***"


def _test_fields(tool: dict[str, Any], to: str | None) -> dict[str, str]:
    text = f"Cronium test message from the tool \u201c{tool['name']}\u201d: it works."
    if tool["kind"] == EMAIL:
        return {"to": to or tool["config"].get("fromAddress") or "", "subject": "Cronium test message", "body": text}
    if tool["kind"] == WEBHOOK:
        return {"body": json.dumps({"test": True, "tool": tool["name"], "message": text, "sentAt": isoformat(utcnow())})}
    return {"text": text}


def _open(settings: Settings, access: Access, tool_id: int) -> tuple[dict[str, Any], set[str]]:
    with read_session() as session:
        tool = service.get_tool(session, access, tool_id)
        return service.open_login(settings, tool), service.secret_texts(settings, tool)


def _record(access: Access, tool_id: int, ok: bool, message: str) -> dict[str, Any]:
    with write_session() as session:
        tool = service.get_tool(session, access, tool_id)
        service.record_test(session, tool, ok, message)
        return service.tool_to_dict(tool)


async def test_tool(settings: Settings, access: Access, tool_id: int, data: ToolTestIn) -> dict[str, Any]:
    """Send a test message now and record how it went on the tool."""
    access.require(Ability.edit, "test tools")
    login, hidden = await run_in_threadpool(_open, settings, access, tool_id)
    result = await deliver(
        login, _test_fields(login, data.to), delivery_id=f"test-{secrets.token_hex(8)}",
        allow=AllowList.parse(settings.tool_allow), timeout=TEST_TIMEOUT_S,
    )
    # A receiver may echo what it got: nothing of the credentials goes back.
    lines = [service.scrub(line, hidden) for line in result.lines]
    message = "sent" if result.ok else service.scrub(result.error or "failed", hidden)
    tool = await run_in_threadpool(_record, access, tool_id, result.ok, message)
    return {"ok": result.ok, "message": message, "lines": lines, "tool": tool}


def _preview_context(settings: Settings, access: Access, data: TemplatePreviewIn) -> dict[str, Any]:
    """What a run would see, with every secret variable shown as ***."""
    names = referenced_variables(dict(data.fields))
    with read_session() as session:
        event = session.get(Event, data.event_id) if data.event_id else None
        if not access.owns(event):
            event = None
        rows = session.exec(
            Variable.__table__.select().where(access.scope(Variable), Variable.key.in_(names))
        ).all() if names else []
    variables = {row.key: SECRET_SHOWN if row.secret else row.value for row in rows}
    return {
        "input": data.input,
        "event": {"id": event.id, "name": event.name} if event is not None else {"id": 0, "name": "(this event)"},
        "job": {"id": "job_preview", "attempt": 1},
        "variables": variables,
    }


async def preview(settings: Settings, access: Access, data: TemplatePreviewIn) -> dict[str, Any]:
    """The fields rendered, or the first problem (which field, why)."""
    try:
        context = await run_in_threadpool(_preview_context, settings, access, data)
        try:
            await asyncio.wait_for(_previews.acquire(), PREVIEW_WAIT_S)
        except asyncio.TimeoutError:
            raise Busy("too many previews at once: try again in a moment", retry_after=2) from None
        try:
            return {"fields": await render_isolated(dict(data.fields), context, timeout=PREVIEW_TIMEOUT_S)}
        finally:
            _previews.release()
    except TemplateProblem as exc:
        return {"error": exc.message, "field": exc.field}
