"""Time helpers. Every timestamp is an aware UTC datetime (SQLModel's
UTCDateTime columns refuse naive values, which keeps us honest)."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 with a `Z` suffix, for API output."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")
