"""Time helpers. Every timestamp is an aware UTC datetime (SQLModel's
UTCDateTime columns refuse naive values, which keeps us honest)."""

from __future__ import annotations

from datetime import datetime, timezone

from cronium_app.errors import Invalid


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def given_as_utc(value: datetime | None, field: str) -> datetime | None:
    """A time a caller gave, in aware UTC (None stays None); Invalid (a
    422) for one UTC cannot hold: the very start of year 1 with a positive
    offset is before the first UTC time Python has."""
    try:
        return as_utc(value) if value is not None else None
    except OverflowError:
        raise Invalid(f"{field} is out of range", field=field) from None


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 with a `Z` suffix, for API output."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")
