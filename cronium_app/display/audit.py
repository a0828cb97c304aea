"""The Audit page's rows, built from the log's entries
(cronium_app/audit/query.py): who, what, on what, from where, and each
changed field's before and after as short text."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from cronium_app.display.formatting import fmt_datetime

NONE = "—"
# A changed value longer than this is cut on the page (the JSONL export has it whole).
MAX_SHOWN = 300
SOURCE_LABELS = {
    "ui": "web UI", "api": "API", "cli": "command line", "mcp": "MCP", "runtime": "a job's script",
    "schedule": "scheduler", "webhook": "webhook", "system": "the app",
}


class ChangeLine(TypedDict):
    field: str
    before: str
    after: str


class AuditRow(TypedDict):
    id: int
    at: str
    at_full: str
    actor: str
    actor_kind: str
    action: str
    target: str
    source: str
    client_ip: str
    changes: list[ChangeLine]


def shown(value: Any) -> str:
    """A value as a line of text: strings as they are, the rest as JSON."""
    if value is None:
        return NONE
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def _target(target: dict[str, Any]) -> str:
    if not target.get("kind"):
        return NONE
    name = target.get("label") or (f"#{target['id']}" if target.get("id") else "")
    return f"{target['kind']} {name}".strip()


def _actor(actor: dict[str, Any]) -> str:
    if actor.get("email"):
        return actor["email"]
    if actor.get("userId") is not None:
        return f"user #{actor['userId']}"
    return "nobody signed in"


def audit_row(entry: dict[str, Any], tz: str) -> AuditRow:
    changes = entry.get("changes") or {}
    return AuditRow(
        id=entry["id"],
        at=fmt_datetime(entry["at"], tz),
        at_full=entry["at"],
        actor=_actor(entry["actor"]),
        actor_kind=entry["actor"]["kind"] + (f" #{entry['actor']['tokenId']}" if entry["actor"].get("tokenId") else ""),
        action=entry["action"],
        target=_target(entry["target"]),
        source=SOURCE_LABELS.get(entry["source"], entry["source"]),
        client_ip=entry.get("clientIp") or NONE,
        changes=[
            ChangeLine(field=field, before=shown(change.get("before")) if "before" in change else "",
                       after=shown(change.get("after")) if "after" in change else "")
            for field, change in sorted(changes.items())
        ],
    )
