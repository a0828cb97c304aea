"""Turning service values (ISO timestamps, milliseconds, bytes) into the
short strings the pages show. Times are shown in the browser's time zone."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from datetime import time as day_time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronium_app.timeutil import utcnow


@lru_cache(maxsize=64)
def zone(name: str) -> timezone | ZoneInfo:
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def day_start(text: str, tz: str) -> datetime | None:
    """The start of a day (a date input's YYYY-MM-DD) in `tz`, in UTC; None
    for text that is not a date."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day, day_time.min, tzinfo=zone(tz)).astimezone(timezone.utc)


def local(value: str | datetime | None, tz: str) -> datetime | None:
    moment = parse_iso(value) if isinstance(value, str) or value is None else value
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone(tz))


def fmt_datetime(value: str | datetime | None, tz: str, *, empty: str = "—") -> str:
    moment = local(value, tz)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else empty


def fmt_short(value: str | datetime | None, tz: str, *, empty: str = "—") -> str:
    """Time of day for today's timestamps, date and time otherwise."""
    moment = local(value, tz)
    if moment is None:
        return empty
    if moment.date() == local(utcnow(), tz).date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%b %d, %H:%M")


def fmt_duration(ms: int | float | None, *, empty: str = "—") -> str:
    if ms is None:
        return empty
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m"


def elapsed_ms(start_iso: str | None) -> int | None:
    start = parse_iso(start_iso)
    if start is None:
        return None
    return max(0, int((utcnow() - start).total_seconds() * 1000))


def job_duration(job: dict[str, Any]) -> str:
    """The run time of a finished job, or the time so far of a running one."""
    if job.get("durationMs") is not None:
        return fmt_duration(job["durationMs"])
    if job.get("completedAt") is None and (job.get("startedAt") or job.get("acknowledgedAt")):
        return fmt_duration(elapsed_ms(job.get("startedAt") or job.get("acknowledgedAt"))) + " so far"
    return "—"


def fmt_bytes(size: int | float | None, *, empty: str = "—") -> str:
    if size is None:
        return empty
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def fmt_json(value: Any, *, empty: str = "") -> str:
    if value is None:
        return empty
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def fmt_trend(percent: float | None) -> str:
    if percent is None:
        # job_stats gives no percentage when yesterday's count was 0.
        return "0 yesterday"
    if percent == 0:
        return "same as yesterday"
    sign = "+" if percent > 0 else "−"
    return f"{sign}{abs(percent):g}% vs yesterday"
