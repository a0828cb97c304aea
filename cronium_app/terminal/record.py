"""The record of each terminal session: who opened a shell on which server,
from where, when, for how long, and why it ended.

`record_terminal_session` is the one place the record is made: a
structured log line at each end (logger `cronium_app.terminal.record`, with
the fields in `extra` as well), and, when the session closes, one audit-log
entry (`server.terminal`) with its duration, why it ended and the bytes each
way. Nothing typed or shown in the terminal goes into either.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from cronium_app import audit
from cronium_app.timeutil import isoformat, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TerminalSession:
    session_id: str
    user_id: int
    user_email: str
    server_id: int
    server_name: str
    workspace_id: int  # the server's, whose members read the entry
    address: str  # the browser's address
    opened_at: datetime


def record_terminal_session(
    session: TerminalSession, phase: str, *, reason: str = "", bytes_in: int = 0, bytes_out: int = 0
) -> dict[str, object]:
    """Record that a terminal session opened (`phase="opened"`) or closed
    (`"closed"`, with its duration, why, and how many bytes went each way;
    this one also in the audit log, so it writes to the database: call it
    from a thread). Returns the fields recorded."""
    fields: dict[str, object] = {
        **asdict(session),
        "opened_at": isoformat(session.opened_at),
        "phase": phase,
    }
    if phase == "closed":
        fields.update(
            duration_s=round((utcnow() - session.opened_at).total_seconds(), 3),
            reason=reason,
            bytes_in=bytes_in,
            bytes_out=bytes_out,
        )
    text = " ".join(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}" for key, value in fields.items())
    logger.info("terminal session %s: %s", phase, text, extra={"terminal": fields})
    if phase == "closed":
        _audit_closed(session, fields)
    return fields


def _audit_closed(session: TerminalSession, fields: dict[str, object]) -> None:
    """The session's audit entry, as its user acting from the browser (the
    terminal's websocket is not a UI event, so no context was set for it)."""
    details = {key: fields[key] for key in ("session_id", "opened_at", "duration_s", "reason", "bytes_in", "bytes_out")}
    target = audit.Target("server", session.server_id, session.server_name)
    with audit.context.acting(audit.Source.ui, audit.ActorKind.user, session.user_id) as caller:
        caller.email = session.user_email
        caller.client_ip = session.address[: audit.context.MAX_IP] or None
        audit.record_now(audit.Action.server_terminal, target, details=details, workspace_id=session.workspace_id)
