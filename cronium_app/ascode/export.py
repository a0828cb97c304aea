"""A user's events, workflows, schedules and variables as a document
(version 1): every field written out, secrets as references only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from cronium_app.auth.access import Access
from cronium_app.ascode import yamltext
from cronium_app.ascode.document import VERSION
from cronium_app.ascode.parse import KINDS
from cronium_app.ascode.sync import Current, event_state, workflow_state
from cronium_app.events.service import event_to_dict
from cronium_app.models import Variable
from cronium_app.workflows.service import workflow_to_dict

HEADER = (
    "# Cronium events as code, version 1 (README: \"Events as code\").\n"
    "# Apply with `cronium apply -f FILE`; secrets are named here, never written.\n"
)
_SCHEDULE_KEYS = {"scheduleType": "type", "cronExpression": "cronExpression", "intervalSeconds": "intervalSeconds",
                  "runAt": "runAt", "timezone": "timezone", "startAt": "startAt", "maxExecutions": "maxExecutions",
                  "misfirePolicy": "misfirePolicy", "overlapPolicy": "overlapPolicy"}


@dataclass(frozen=True)
class Export:
    document: dict[str, Any]
    warnings: list[str]

    @property
    def text(self) -> str:
        return yamltext.dump(self.document, HEADER)

    def counts(self) -> dict[str, int]:
        return {kind: len(self.document.get(kind, [])) for kind in KINDS}


def _with_schedule(state: dict[str, Any]) -> dict[str, Any]:
    """A state's flat schedule fields as the document's `schedule` mapping."""
    out = {key: value for key, value in state.items() if key not in _SCHEDULE_KEYS}
    out["schedule"] = {name: state[key] for key, name in _SCHEDULE_KEYS.items()}
    return out


def _event(row, current: Current) -> dict[str, Any]:
    shown = event_to_dict(row)
    out: dict[str, Any] = {"name": row.name}
    for key, value in _with_schedule(event_state(shown, current.server_names)).items():
        out[key] = value
        if key == "envVars":
            out["secretEnvVarNames"] = shown["secretEnvVarNames"]
    return out


def _variable(row: Variable) -> dict[str, Any]:
    return {"key": row.key, "secret": True} if row.secret else {"key": row.key, "value": row.value}


def export(session: Session, access: Access, kinds: tuple[str, ...] = KINDS) -> Export:
    current = Current.load(session, access)
    document: dict[str, Any] = {"version": VERSION}
    if "variables" in kinds:
        rows = session.exec(select(Variable).where(access.scope(Variable)).order_by(Variable.key)).all()
        document["variables"] = [_variable(row) for row in rows]
    if "events" in kinds:
        document["events"] = [_event(row, current) for rows in current.events.values() for row in rows]
    if "workflows" in kinds:
        document["workflows"] = [
            {"name": row.name, **_with_schedule(workflow_state(workflow_to_dict(session, row), current.event_names))}
            for rows in current.workflows.values() for row in rows
        ]
    warnings = [
        f"{count} {kind} are named {name!r}: rename all but one before applying this document"
        for kind in ("events", "workflows")
        for name, count in Counter(item["name"] for item in document.get(kind, [])).items() if count > 1
    ]
    return Export(document, warnings)
