"""Tools: a user's saved integrations (Slack, Discord, Teams, webhooks,
email), scoped to their owner, with their credentials sealed at rest and
never shown again; the actions tool events and conditional actions take
(checked here); what a worker gets for a tool job; and the texts that must
be masked in a tool job's log.

Credentials leave this module in the clear only through `login_for_claim`
(the orchestrator API, for the worker that claimed the job) and
`open_login` (the app's own "test" action)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import httpx
import sqlalchemy as sa
from sqlmodel import Session, select

from cronium_app import audit
from cronium_app import sealing
from cronium_app.auth.access import Ability, Access
from cronium_app.errors import Conflict, Invalid, NotFound
from cronium_app.models import Event, EventAction, Tool
from cronium_app.pagination import Page, escape_like
from cronium_app.quotas import check_room
from cronium_app.settings import Settings
from cronium_app.timeutil import isoformat, utcnow
from cronium_app.tools.schemas import ToolActionIn, ToolCreate, ToolFields, ToolUpdate
from orchestrator_worker.tools.kinds import CHAT_KINDS, EMAIL, KIND_TABLE, WEBHOOK
from orchestrator_worker.tools.templates import TemplateProblem, referenced_variables

DEFAULT_SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# Parts of a hook URL this long are its secret wherever they show up alone.
SECRET_PART_MIN_CHARS = 16


# -- hook URLs ---------------------------------------------------------------------


def _bases(settings: Settings, kind: str) -> list[str]:
    listed = {"slack": settings.slack_webhook_bases, "discord": settings.discord_webhook_bases,
              "teams": settings.teams_webhook_bases}[kind]
    return [base.strip() for base in listed.split(",") if base.strip()]


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    default = 443 if url.scheme == "https" else 80
    return url.scheme, url.host.lower(), url.port or default


def matches_base(url: str, base: str) -> bool:
    """`url` is under `base`: same scheme and port, the same host (or a
    subdomain for a "*." host), and its path starts with the base's."""
    try:
        wild = "://*." in base
        parsed_base = httpx.URL(base.replace("://*.", "://wildcard.", 1))
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    scheme, host, port = _origin(parsed)
    base_scheme, base_host, base_port = _origin(parsed_base)
    if (scheme, port) != (base_scheme, base_port) or parsed.userinfo:
        return False
    if wild:
        suffix = base_host.removeprefix("wildcard")
        if not host.endswith(suffix) or len(host) <= len(suffix):
            return False
    elif host != base_host:
        return False
    return parsed.path.startswith(parsed_base.path)


def _check_url(settings: Settings, kind: str, url: str) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise Invalid("the URL is not valid", field="url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Invalid("the URL must start with https:// (or http://) and a host", field="url")
    if kind in CHAT_KINDS:
        bases = _bases(settings, kind)
        if not any(matches_base(url, base) for base in bases):
            label = KIND_TABLE[kind].label
            raise Invalid(f"a {label} incoming webhook URL starts with {' or '.join(bases)}", field="url")


# -- stored form -------------------------------------------------------------------


def _secrets(settings: Settings, tool: Tool) -> dict[str, Any]:
    return sealing.unseal(settings.secret_key, sealing.TOOL_CREDENTIALS, tool.credentials,
                          what=f"the stored credentials of tool {tool.name!r}")


def _current_secrets(settings: Settings, tool: Tool, fields: ToolFields) -> dict[str, Any]:
    """What to merge an update into; sealed under another SECRET_KEY, the
    update must bring every credential again."""
    if not tool.credentials:
        return {}
    try:
        return _secrets(settings, tool)
    except sealing.Unreadable:
        if fields.url is None and fields.password is None:
            raise
        return {}


def _apply(settings: Settings, tool: Tool, fields: ToolFields) -> None:
    if fields.name is not None:
        tool.name = fields.name
    secrets = _current_secrets(settings, tool, fields)
    config = dict(tool.config or {})
    if fields.url is not None:
        secrets["url"] = fields.url
    if tool.kind == WEBHOOK:
        config["method"] = fields.method or config.get("method") or "POST"
        config["contentType"] = fields.content_type or config.get("contentType") or "application/json"
        if fields.headers is not None:
            secrets["headers"] = dict(fields.headers)
        if fields.signing_secret is not None:
            secrets.pop("signingSecret", None)
            if fields.signing_secret:
                secrets["signingSecret"] = fields.signing_secret
    if tool.kind == EMAIL:
        _apply_email(config, secrets, fields)
    if tool.kind != EMAIL:
        if not secrets.get("url"):
            raise Invalid(f"a {KIND_TABLE[tool.kind].label} tool needs its URL", field="url")
        _check_url(settings, tool.kind, secrets["url"])
        config["urlHost"] = httpx.URL(secrets["url"]).host
    tool.config = config
    _remember_secret_shape(tool, secrets)
    tool.credentials = sealing.seal(settings.secret_key, sealing.TOOL_CREDENTIALS, secrets)


def _apply_email(config: dict[str, Any], secrets: dict[str, Any], fields: ToolFields) -> None:
    for key, value in (("host", fields.host), ("security", fields.security), ("fromAddress", fields.from_address)):
        if value is not None:
            config[key] = value
    if fields.username is not None:
        config["username"] = fields.username or None
    config.setdefault("security", "starttls")
    if fields.port is not None:
        config["port"] = fields.port
    config.setdefault("port", DEFAULT_SMTP_PORTS[config["security"]])
    if fields.password is not None:
        secrets["password"] = fields.password
    problems = {}
    if not config.get("host"):
        problems["host"] = "enter the SMTP server's host name"
    if not config.get("fromAddress"):
        problems["fromAddress"] = "enter the address messages come from"
    if config.get("username") and not secrets.get("password"):
        problems["password"] = "enter the password of that user"
    if config.get("username") and config["security"] == "none":
        problems["security"] = "a password is never sent unencrypted: choose STARTTLS or TLS"
    if problems:
        raise Invalid("invalid email tool: " + "; ".join(f"{k}: {v}" for k, v in problems.items()), fields=problems)


def _name_taken(session: Session, access: Access, name: str, tool_id: int | None) -> bool:
    query = select(Tool.id).where(access.scope(Tool), Tool.name == name)
    if tool_id is not None:
        query = query.where(Tool.id != tool_id)
    return session.exec(query).first() is not None


def create_tool(session: Session, settings: Settings, access: Access, data: ToolCreate) -> Tool:
    access.require(Ability.edit, "add tools")
    check_room(session, Tool, access.user_id, settings.max_tools_per_user, "tools", "CRONIUM_MAX_TOOLS_PER_USER")
    tool = Tool(user_id=access.user_id, workspace_id=access.workspace_id, name=data.name, kind=data.kind, config={}, credentials="")
    _apply(settings, tool, data)
    if _name_taken(session, access, tool.name, None):
        raise Conflict(f"a tool named {tool.name!r} already exists", field="name")
    session.add(tool)
    session.flush()
    audit.record(session, audit.Action.tool_create, tool, after=tool)
    return tool


def get_tool(session: Session, access: Access, tool_id: int) -> Tool:
    tool = session.get(Tool, tool_id)
    if not access.owns(tool):
        raise NotFound(f"tool {tool_id} not found")
    return tool


def update_tool(session: Session, settings: Settings, access: Access, tool_id: int, data: ToolUpdate) -> Tool:
    access.require(Ability.edit, "change tools")
    tool = get_tool(session, access, tool_id)
    before = audit.snapshot(tool)
    _apply(settings, tool, data)
    if data.name is not None and _name_taken(session, access, tool.name, tool.id):
        raise Conflict(f"a tool named {tool.name!r} already exists", field="name")
    tool.updated_at = utcnow()
    session.add(tool)
    session.flush()
    audit.record(session, audit.Action.tool_update, tool, before=before, after=tool)
    return tool


def users_of(session: Session, access: Access, tool_id: int) -> list[str]:
    """The names of the events that use the tool (as a tool event or in a
    conditional action)."""
    names = set(session.exec(
        select(Event.name).join(EventAction, EventAction.event_id == Event.id)
        .where(access.scope(Event), EventAction.tool_id == tool_id)
    ).all())
    for name, action in session.exec(
        select(Event.name, Event.tool_action).where(access.scope(Event), Event.type == "tool")
    ).all():
        if (action or {}).get("toolId") == tool_id:
            names.add(name)
    return sorted(names)


def delete_tool(session: Session, access: Access, tool_id: int) -> None:
    access.require(Ability.edit, "delete tools")
    tool = get_tool(session, access, tool_id)
    used = users_of(session, access, tool_id)
    if used:
        shown = ", ".join(repr(name) for name in used[:5]) + (" and more" if len(used) > 5 else "")
        raise Conflict(f"tool {tool.name!r} is used by {shown}: change those events first")
    audit.record(session, audit.Action.tool_delete, tool, before=tool)
    session.delete(tool)
    session.flush()


def list_tools(session: Session, access: Access, *, q: str | None, limit: int, offset: int) -> Page:
    query = select(Tool).where(access.scope(Tool))
    if q:
        query = query.where(Tool.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Tool.name, Tool.id).limit(limit).offset(offset)).all()
    return Page(items=[tool_to_dict(t) for t in rows], total=total, limit=limit, offset=offset)


def record_test(session: Session, tool: Tool, ok: bool, message: str) -> None:
    tool.last_tested_at = utcnow()
    tool.last_test_ok = ok
    tool.last_test_message = message[:2000]
    session.add(tool)
    session.flush()


def tool_to_dict(tool: Tool) -> dict[str, Any]:
    """What the API and the UI show: no secret, only whether one is set.
    (`has...` and `signed` are read from the config, which keeps no secret,
    so a listing never opens a sealed value.)"""
    config = tool.config or {}
    body: dict[str, Any] = {
        "id": tool.id, "name": tool.name, "kind": tool.kind, "action": KIND_TABLE[tool.kind].action,
        "lastTestedAt": isoformat(tool.last_tested_at), "lastTestOk": tool.last_test_ok,
        "lastTestMessage": tool.last_test_message, "createdAt": isoformat(tool.created_at),
        "updatedAt": isoformat(tool.updated_at),
    }
    if tool.kind == EMAIL:
        body.update(host=config.get("host"), port=config.get("port"), security=config.get("security"),
                    username=config.get("username"), fromAddress=config.get("fromAddress"),
                    hasPassword=bool(config.get("hasPassword")))
    else:
        body.update(urlHost=config.get("urlHost"), hasUrl=bool(config.get("urlHost")))
    if tool.kind == WEBHOOK:
        body.update(method=config.get("method"), contentType=config.get("contentType"),
                    headerNames=list(config.get("headerNames") or []), signed=bool(config.get("signed")))
    return body


def _remember_secret_shape(tool: Tool, secrets: dict[str, Any]) -> None:
    """What a listing may show of the secrets: header names, signed or not,
    a password set or not."""
    if tool.kind == EMAIL:
        tool.config = {**tool.config, "hasPassword": bool(secrets.get("password"))}
    if tool.kind == WEBHOOK:
        tool.config = {**tool.config, "headerNames": sorted(secrets.get("headers") or {}),
                       "signed": bool(secrets.get("signingSecret"))}


# -- for a run, a test, a log --------------------------------------------------------


def open_login(settings: Settings, tool: Tool) -> dict[str, Any]:
    """The tool as a worker gets it (protocol.ToolLogin): settings and the
    opened credentials, or `error` when they cannot be opened."""
    login: dict[str, Any] = {"id": tool.id, "name": tool.name, "kind": tool.kind, "config": dict(tool.config or {}),
                             "secrets": {}}
    try:
        login["secrets"] = _secrets(settings, tool)
    except sealing.Unreadable as exc:
        login["error"] = exc.message
    return login


def login_for_claim(session: Session, settings: Settings, access: Access, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tool a tool job's spec names, for the worker that claimed it;
    only the job owner's tool can match."""
    if not spec:
        return None
    tool = session.get(Tool, spec.get("toolId"))
    if not access.owns(tool):
        return {"id": int(spec.get("toolId") or 0), "name": "", "kind": "", "config": {}, "secrets": {},
                "error": f"tool {spec.get('toolId')} no longer exists"}
    return open_login(settings, tool)


def secret_texts(settings: Settings, tool: Tool) -> set[str]:
    """Every credential of the tool as it may show up in a log: whole, and
    a hook URL's long path segments and query values alone."""
    try:
        secrets = _secrets(settings, tool)
    except sealing.Unreadable:
        return set()  # nobody can open them, so nobody can print them
    found = {value for key, value in secrets.items() if isinstance(value, str) and key != "headers"}
    found.update(value for value in (secrets.get("headers") or {}).values() if isinstance(value, str))
    url = secrets.get("url")
    if url:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            return found
        found.add(parsed.raw_path.decode("ascii", "replace"))
        parts = [unquote(part) for part in parsed.path.split("/")]
        parts += [value for _, value in parsed.params.multi_items()]
        found.update(part for part in parts if len(part) >= SECRET_PART_MIN_CHARS)
    return found


def scrub(text: str, secrets: set[str]) -> str:
    """`text` with each secret (and its URL-encoded form) replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


# -- tool actions ----------------------------------------------------------------------


def check_action(session: Session, access: Access, data: ToolActionIn, *, defaults: dict[str, str] | None = None,
                 where: str = "toolAction") -> dict[str, Any]:
    """A tool action as stored and frozen into jobs (protocol.ToolAction):
    the owner's tool, its kind's action, a template per field (`defaults`
    fill the fields left out), and the variables they read."""
    tool = session.get(Tool, data.tool_id)
    if not access.owns(tool):
        raise Invalid(f"unknown tool {data.tool_id}", field=f"{where}.toolId")
    kind = KIND_TABLE[tool.kind]
    if data.action is not None and data.action != kind.action:
        raise Invalid(f"a {kind.label} tool can only {kind.action_label.lower()}", field=f"{where}.action")
    extra = sorted(set(data.fields) - set(kind.fields))
    if extra:
        raise Invalid(f"a {kind.label} tool has no field {extra[0]!r} (it has {', '.join(kind.fields)})",
                      field=f"{where}.fields")
    fields = {name: text for name, text in {**(defaults or {}), **data.fields}.items() if name in kind.fields}
    problems = {f"{where}.fields.{name}": "fill in this field" for name in kind.required if not fields.get(name, "").strip()}
    if problems:
        raise Invalid("; ".join(f"{k}: {v}" for k, v in problems.items()), fields=problems)
    try:
        variables = referenced_variables(fields)
    except TemplateProblem as exc:
        raise Invalid(exc.message, field=f"{where}.fields.{exc.field}" if exc.field else f"{where}.fields") from None
    return {"toolId": tool.id, "action": kind.action, "fields": fields, "variables": variables}
