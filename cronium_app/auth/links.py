"""Single-use links an administrator hands out: invitations (create an
account) and password resets. The token in a link is 256 random bits;
only its SHA-256 is stored (a fast hash is safe for a random token), looked
up by digest and compared again in constant time.

A link is used with one conditional UPDATE (`used_at IS NULL AND revoked_at
IS NULL AND expires_at > now`), so two browsers racing on one link cannot
both succeed. Each refusal says in words why: unknown, used, revoked or
expired."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app.errors import CroniumError
from cronium_app.timeutil import as_utc, utcnow

# Long enough for 256 bits in URL-safe base64, short enough to refuse junk at once.
MAX_TOKEN_CHARS = 100


class LinkRefused(CroniumError):
    """The link cannot be used; `reason` says why (unknown, used, revoked, expired)."""

    status_code = 410
    code = "link_refused"

    def __init__(self, what: str, reason: str):
        messages = {
            "unknown": f"this {what} link is not valid: check that it was copied whole, or ask for a new one",
            "used": f"this {what} link has been used already: ask an administrator for a new one",
            "revoked": f"this {what} link has been withdrawn: ask an administrator for a new one",
            "expired": f"this {what} link has expired: ask an administrator for a new one",
        }
        super().__init__(messages[reason], reason=reason)
        if reason == "unknown":
            self.status_code = 404
        self.reason = reason


def new_token() -> tuple[str, str]:
    """(the token for the link, its digest for the database)."""
    raw = secrets.token_urlsafe(32)
    return raw, digest(raw)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def find(session: Session, model: Any, raw: str, what: str) -> Any:
    """The row whose token is `raw`, if it may still be used; else LinkRefused."""
    if not raw or len(raw) > MAX_TOKEN_CHARS:
        raise LinkRefused(what, "unknown")
    wanted = digest(raw)
    row = session.scalars(sa.select(model).where(model.token_hash == wanted)).first()
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        raise LinkRefused(what, "unknown")
    refuse_unusable(row, what)
    return row


def refuse_unusable(row: Any, what: str) -> None:
    if row.used_at is not None:
        raise LinkRefused(what, "used")
    if row.revoked_at is not None:
        raise LinkRefused(what, "revoked")
    if as_utc(row.expires_at) <= utcnow():
        raise LinkRefused(what, "expired")


def claim(session: Session, model: Any, row_id: int, what: str, **values: Any) -> None:
    """Mark the link used, once: a second use (even at the same moment) is refused."""
    now = utcnow()
    changed = session.execute(
        sa.update(model)
        .where(model.id == row_id, model.used_at.is_(None), model.revoked_at.is_(None), model.expires_at > now)
        .values(used_at=now, **values)
    )
    if changed.rowcount != 1:
        raise LinkRefused(what, "used")


def withdraw(session: Session, model: Any, *where: Any) -> None:
    """Withdraw the links matching `where` that are not used or withdrawn yet."""
    session.execute(
        sa.update(model).where(*where, model.used_at.is_(None), model.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def status(row: Any, now: datetime | None = None) -> str:
    """pending, used, revoked or expired."""
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None:
        return "revoked"
    if as_utc(row.expires_at) <= (now or utcnow()):
        return "expired"
    return "pending"
