"""Sending an invitation's link by email through one of the acting
administrator's email tools (auth/invitations.py makes the invitation; the
tool's login and delivery are the tools folder's)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from cronium_app.auth.invitations import create_invitation
from cronium_app.auth.personal_workspace import personal_access
from cronium_app.db import read_session, write_session
from cronium_app.errors import Invalid
from cronium_app.models import Tool
from cronium_app.settings import Settings
from cronium_app.tools import service as tools
from orchestrator_worker.executors.ssrf import AllowList
from orchestrator_worker.tools.deliver import deliver
from orchestrator_worker.tools.kinds import EMAIL

EMAIL_TIMEOUT_S = 15.0


def _email_login(settings: Settings, actor_id: int, tool_id: int) -> dict[str, Any]:
    """The acting admin's email tool (one of their personal workspace's),
    opened for sending (refused before anything is written when it is not one)."""
    with read_session() as session:
        tool = tools.get_tool(session, personal_access(session, actor_id), tool_id)
        if tool.kind != EMAIL:
            raise Invalid(f"tool {tool_id} is a {tool.kind} tool: choose an email tool", field="emailToolId")
        return tools.open_login(settings, tool)


def email_tools(session: Session, actor_id: int) -> list[dict[str, Any]]:
    """The acting admin's email tools, which an invitation can be sent
    through: their personal workspace's (a team's tools are the team's)."""
    mine = personal_access(session, actor_id)
    rows = session.exec(select(Tool).where(mine.scope(Tool), Tool.kind == EMAIL).order_by(Tool.name)).all()
    return [{"id": tool.id, "name": tool.name} for tool in rows]


def _create(settings: Settings, actor_id: int, email: str, role: str) -> tuple[dict[str, Any], str]:
    with write_session() as session:
        return create_invitation(session, settings, actor_id, email, role)


def invitation_email(settings: Settings, invitation: dict[str, Any], url: str) -> dict[str, str]:
    role = "an administrator" if invitation["role"] == "admin" else "a user"
    body = (
        f"You are invited to Cronium at {settings.origin} as {role}.\n\n"
        f"Open this link to set your password and sign in:\n{url}\n\n"
        f"The link works once, until {invitation['expiresAt']} (UTC). "
        "If you did not expect it, ignore this message."
    )
    return {"to": invitation["email"], "subject": "Your invitation to Cronium", "body": body}


async def invite(
    settings: Settings, actor_id: int, email: str, role: str, *, email_tool_id: int | None = None
) -> dict[str, Any]:
    """Create an invitation and, with `email_tool_id` (an email tool of the
    acting admin), send its link to the invited address. The reply always
    holds the link, and whether the email went out (and why not)."""
    login = await run_in_threadpool(_email_login, settings, actor_id, email_tool_id) if email_tool_id else None
    invitation, url = await run_in_threadpool(_create, settings, actor_id, email, role)
    reply = {"invitation": invitation, "url": url, "emailed": False, "emailError": None}
    if login is None:
        return reply
    result = await deliver(login, invitation_email(settings, invitation, url), delivery_id=f"invite-{secrets.token_hex(8)}",
                           allow=AllowList.parse(settings.tool_allow), timeout=EMAIL_TIMEOUT_S)
    hidden = {value for value in login.get("secrets", {}).values() if isinstance(value, str)}
    reply["emailed"] = result.ok
    reply["emailError"] = None if result.ok else tools.scrub(result.error or "the email could not be sent", hidden)
    return reply
