"""A schedule as an APScheduler 3.x trigger: parse and validate it, and list
its fire times.

APScheduler's trigger classes do all the calendar arithmetic
(`CronTrigger`, `IntervalTrigger`, `DateTrigger`); this module adds what
Cronium's schedules promise on top of them:

- Crontab weekday numbers. APScheduler 3.x counts day-of-week 0 as Monday,
  also in `CronTrigger.from_crontab` (its issue #286, fixed only in 4.x), so
  `0 9 * * 1` would run on Tuesdays. The day-of-week field is translated to
  day names first: 0 and 7 are Sunday, as in crontab(5).
- An optional seconds field in front (6 fields), and the @-macros
  (@hourly, @daily, ...).
- Daylight saving time neither skips nor doubles a run. In a spring-forward
  gap APScheduler already fires a wall time that does not exist once, at the
  same instant the clock jumps past it (02:30 becomes 03:30 summer time). In
  a fall-back it fires a repeated wall time twice; for an expression with a
  fixed hour we drop the second one (02:30 runs once that night). An
  expression whose hour field starts with `*` (every hour) keeps running
  through the repeated hour, by elapsed time, as Vixie cron does.
- Intervals count elapsed time (computed in UTC), so DST never moves them;
  for "every day at 09:00 local time" use cron.
- Queries are stateless ("the first fire time at or after t"). APScheduler's
  `previous_fire_time` argument is never used: in 3.11 it can return the same
  time again at a DST boundary (its issue #1021).

Datetimes in and out are aware and in UTC; `in_zone` shows one in the
schedule's time zone.
"""

from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cronium_app.timeutil import as_utc, isoformat

UTC = timezone.utc
MIN_INTERVAL_S = 10
MAX_INTERVAL_S = 10 * 366 * 86_400
TICK = timedelta(microseconds=1)
# The largest step a zone's clocks take at once (daylight saving: 1 h, some
# zones 2 h; a zone changing its standard offset: more).
MAX_CLOCK_JUMP = timedelta(hours=3)

MANUAL, CRON, INTERVAL, ONCE = "manual", "cron", "interval", "once"

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIVE_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
FIELD_HELP = {
    "second": ("second", "0-59"),
    "minute": ("minute", "0-59"),
    "hour": ("hour", "0-23"),
    "day": ("day of month", "1-31"),
    "month": ("month", "1-12 or jan-dec"),
    "day_of_week": ("day of week", "0-7 or sun-sat; 0 and 7 are Sunday"),
}
CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_PART = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


class ScheduleError(ValueError):
    """Bad schedule input. `problems` maps an API field name (camelCase, as
    the editor and the API name it) to what is wrong with it."""

    def __init__(self, problems: dict[str, str]):
        self.problems = dict(problems)
        super().__init__("; ".join(self.problems.values()))


@dataclass(frozen=True)
class ScheduleSpec:
    """The schedule fields of an event or a workflow."""

    type: str = MANUAL
    cron_expression: str | None = None
    interval_seconds: int | None = None
    run_at: datetime | None = None
    timezone: str = "UTC"
    start_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> "ScheduleSpec":
        return cls(
            type=row.schedule_type,
            cron_expression=row.cron_expression,
            interval_seconds=row.interval_seconds,
            run_at=as_utc(row.run_at) if row.run_at else None,
            timezone=row.timezone or "UTC",
            start_at=as_utc(row.start_at) if row.start_at else None,
        )


# -- time zones --------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ScheduleError if there is none."""
    if not name or name not in _known_zones():
        raise ScheduleError(
            {"timezone": f"unknown time zone {name!r}: use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'"}
        )
    return ZoneInfo(name)


def in_zone(moment: datetime, tz_name: str) -> str:
    """ISO 8601 in the schedule's zone, with its offset (2026-03-29T03:30:00+02:00)."""
    return as_utc(moment).astimezone(ZoneInfo(tz_name)).isoformat()


def _just_before_forward_change(moment: datetime, tz: ZoneInfo) -> datetime | None:
    """The whole second before the zone's clocks last went forward, if they
    did within MAX_CLOCK_JUMP before `moment`; else None (almost always: two
    offset look-ups). A whole second: APScheduler rounds a fraction up, which
    would land in the gap and be read as the wall time after it."""
    low, high = moment - MAX_CLOCK_JUMP, moment
    before = low.astimezone(tz).utcoffset()
    if before >= high.astimezone(tz).utcoffset():
        return None
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return low.replace(microsecond=0)


def _repeated_wall_time(moment: datetime, tz: ZoneInfo) -> bool:
    """True for the second occurrence of a wall-clock time that a fall-back
    transition repeats."""
    local = moment.astimezone(tz)
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


# -- cron ----------------------------------------------------------------------


def _crontab_day(token: str, expression: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token in CRONTAB_DAYS:
        return CRONTAB_DAYS.index(token)
    raise ScheduleError(
        {"cronExpression": f"cron expression {expression!r}: {token!r} is not a day of the week "
                           f"(use 0-7 or sun-sat; 0 and 7 are Sunday)"}
    )


def crontab_weekdays(field: str, expression: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as the list of day names
    APScheduler 3.x reads unambiguously ('1-5' -> 'mon,tue,wed,thu,fri')."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        match = _DOW_PART.match(part)
        if not match:
            raise ScheduleError(
                {"cronExpression": f"cron expression {expression!r}: day of week {part!r} is not valid "
                                   f"({FIELD_HELP['day_of_week'][1]})"}
            )
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError({"cronExpression": f"cron expression {expression!r}: a step must be 1 or more"})
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (_crontab_day(token, expression) for token in span.split("-"))
            if first > last:
                raise ScheduleError(
                    {"cronExpression": f"cron expression {expression!r}: the day-of-week range {span!r} runs "
                                       "backwards (write it from the earlier day, Sunday = 0, e.g. 'fri-sat,sun')"}
                )
        else:
            first = _crontab_day(span, expression)
            last = 7 if step_text else first
        days.update(day % 7 for day in range(first, last + 1, step))
    # APScheduler's own names; the order does not matter to it.
    return ",".join(CRONTAB_DAYS[day] for day in sorted(days))


def parse_cron(expression: str | None, tz: ZoneInfo, start_at: datetime | None = None) -> tuple[CronTrigger, bool]:
    """A CronTrigger for a 5-field crontab expression, or 6 fields with
    seconds first, or an @-macro. Returns the trigger and whether it runs
    every hour (hour field `*...`: it keeps firing through a repeated hour)."""
    text = (expression or "").strip()
    if not text:
        raise ScheduleError({"cronExpression": "a cron schedule needs a cron expression, such as '*/5 * * * *'"})
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise ScheduleError(
                {"cronExpression": f"unknown cron macro {text!r}: use one of {', '.join(sorted(MACROS))}"}
            )
        text = MACROS[text.lower()]
    parts = text.split()
    text = " ".join(parts)
    if len(parts) not in (5, 6):
        raise ScheduleError(
            {"cronExpression": f"cron expression must have 5 or 6 fields: minute hour day-of-month month day-of-week, "
                               f"optionally preceded by seconds; got {len(parts)} in {text!r}"}
        )
    names = (("second",) if len(parts) == 6 else ()) + FIVE_FIELDS
    values = dict(zip(names, parts))
    for name in names:  # left to right, so the first bad field is the one named
        if name == "day_of_week":
            values[name] = crontab_weekdays(values[name], text)
            continue
        try:
            CronTrigger(timezone=UTC, **{name: values[name]})
        except ValueError as exc:
            label, allowed = FIELD_HELP[name]
            detail = re.sub(r"^Error validating expression '[^']*': ", "", str(exc))
            raise ScheduleError(
                {"cronExpression": f"cron expression {text!r}: {label} {values[name]!r} is not valid ({allowed}): {detail}"}
            ) from None
    values.setdefault("second", "0")
    trigger = CronTrigger(timezone=tz, start_date=start_at, **values)
    return trigger, values["hour"].startswith("*")


# -- schedules -------------------------------------------------------------------


class Schedule:
    """Fire times of one schedule. Subclasses answer `first_at_or_after`."""

    def first_at_or_after(self, moment: datetime) -> datetime | None:
        raise NotImplementedError

    def next_after(self, moment: datetime) -> datetime | None:
        return self.first_at_or_after(as_utc(moment) + TICK)

    def upcoming(self, first: datetime | None, count: int) -> list[datetime]:
        """`first` (a fire time) and the fire times after it, `count` in all."""
        times: list[datetime] = []
        moment = first
        while moment is not None and len(times) < count:
            times.append(moment)
            moment = self.next_after(moment)
        return times

    def between(self, low: datetime, high: datetime, limit: int) -> list[datetime]:
        """Fire times in [low, high], oldest first, at most `limit` (the last ones)."""
        found: collections.deque[datetime] = collections.deque(maxlen=limit)
        moment = self.first_at_or_after(low)
        while moment is not None and moment <= high:
            found.append(moment)
            moment = self.next_after(moment)
        return list(found)

    def last_before(self, low: datetime, high: datetime, count: int, walk: int = 1000) -> list[datetime]:
        """The last `count` fire times in [low, high), oldest first.

        Walks forward from `low`; when the gap holds more fire times than
        `walk` (a per-second cron over a long downtime), it looks back from
        `high` in a window sized from the average spacing seen so far,
        widening or narrowing it until it holds enough."""
        if count <= 0 or low >= high:
            return []
        found: collections.deque[datetime] = collections.deque(maxlen=count)
        moment, steps = self.first_at_or_after(low), 0
        while moment is not None and moment < high and steps < walk:
            found.append(moment)
            moment, steps = self.next_after(moment), steps + 1
        if moment is None or moment >= high:
            return list(found)
        window = max((moment - low) / steps * (count + 1) * 2, timedelta(seconds=1))
        for _ in range(64):
            start = max(low, high - window)
            found = collections.deque(maxlen=count)
            moment, steps = self.first_at_or_after(start), 0
            while moment is not None and moment < high and steps < 4 * walk:
                found.append(moment)
                moment, steps = self.next_after(moment), steps + 1
            if moment is not None and moment < high:
                window /= 4  # too many in the window to walk
                continue
            if len(found) >= count or start == low:
                break
            window *= 2
        return list(found)


class CronSchedule(Schedule):
    # Schedules with the same expression, zone and start share one of these
    # (`_cron_schedule`), and a burst asks each of them the same questions
    # (from their common fire time, from the tick's `now`): the answers are
    # kept for a while. A thousand hourly schedules cost three look-ups.
    MEMO_SIZE = 64

    def __init__(self, trigger: CronTrigger, tz: ZoneInfo, every_hour: bool):
        self.trigger, self.tz, self.every_hour = trigger, tz, every_hour
        self._memo: dict[datetime, datetime | None] = {}

    def first_at_or_after(self, moment: datetime) -> datetime | None:
        moment = as_utc(moment)
        try:
            return self._memo[moment]
        except KeyError:
            pass
        found = self._first_at_or_after(moment)
        if len(self._memo) >= self.MEMO_SIZE:
            self._memo.clear()
        self._memo[moment] = found
        return found

    def _first_at_or_after(self, moment: datetime) -> datetime | None:
        found = self._matching_from(moment)
        # A wall time the clocks skipped (02:30 the night they go forward)
        # fires as the clock leaves the gap, at a moment after the change.
        # Asked from after the change, APScheduler compares wall times
        # (03:30 > 02:30) and would pass it by: look from just before it too.
        before_change = _just_before_forward_change(moment, self.tz)
        if before_change is not None:
            skipped = self._matching_from(before_change)
            if skipped is not None and moment <= skipped and (found is None or skipped < found):
                return skipped
        return found

    def _matching_from(self, moment: datetime) -> datetime | None:
        for _ in range(100):
            found = self.trigger.get_next_fire_time(None, moment)
            if found is None:
                return None
            found = found.astimezone(UTC)
            if found < moment:  # never expected; do not loop on it
                moment += timedelta(seconds=1)
                continue
            if not self.every_hour and _repeated_wall_time(found, self.tz):
                moment = found + TICK
                continue
            return found
        return None


@functools.lru_cache(maxsize=4096)
def _cron_schedule(expression: str | None, tz_name: str, start_at: datetime | None) -> CronSchedule:
    """Parsed once per distinct schedule: a burst of firings reuses it (the
    trigger holds no state between queries)."""
    tz = zone(tz_name)
    trigger, every_hour = parse_cron(expression, tz, start_at)
    return CronSchedule(trigger, tz, every_hour)


class IntervalSchedule(Schedule):
    """anchor + k * interval for k >= 0: elapsed time, computed in UTC."""

    def __init__(self, seconds: int, anchor: datetime):
        self.anchor = as_utc(anchor)
        self.trigger = IntervalTrigger(seconds=seconds, start_date=self.anchor, timezone=UTC)

    def first_at_or_after(self, moment: datetime) -> datetime | None:
        found = self.trigger.get_next_fire_time(None, as_utc(moment))
        return found.astimezone(UTC) if found is not None else None


class OnceSchedule(Schedule):
    def __init__(self, run_at: datetime):
        self.trigger = DateTrigger(run_date=as_utc(run_at), timezone=UTC)

    def first_at_or_after(self, moment: datetime) -> datetime | None:
        run_at = self.trigger.get_next_fire_time(None, moment)
        return run_at.astimezone(UTC) if run_at is not None and run_at >= as_utc(moment) else None


def whole_second(moment: datetime) -> datetime:
    return as_utc(moment).replace(microsecond=0)


def interval_anchor(spec: ScheduleSpec, now: datetime) -> datetime:
    """Where a new interval series starts: `start_at`, else one interval from now."""
    if spec.start_at is not None:
        return whole_second(spec.start_at)
    return whole_second(now) + timedelta(seconds=spec.interval_seconds or MIN_INTERVAL_S)


def compile_schedule(spec: ScheduleSpec, *, anchor: datetime) -> Schedule | None:
    """The schedule's fire times; None for a manual schedule. `anchor` is a
    time in an interval series (its start, or any fire time of it); the
    other kinds ignore it. Raises ScheduleError on bad fields."""
    zone(spec.timezone)  # an unknown zone is a ScheduleError, whatever the kind
    if spec.type == MANUAL:
        return None
    if spec.type == CRON:
        return _cron_schedule(spec.cron_expression, spec.timezone, spec.start_at)
    if spec.type == INTERVAL:
        _check_interval(spec.interval_seconds)
        return IntervalSchedule(int(spec.interval_seconds), anchor)
    if spec.type == ONCE:
        if spec.run_at is None:
            raise ScheduleError({"runAt": "a one-time schedule needs runAt, the date and time to run at"})
        return OnceSchedule(spec.run_at)
    raise ScheduleError({"scheduleType": f"unknown schedule type {spec.type!r}: use manual, cron, interval or once"})


def _check_interval(seconds: int | None) -> None:
    if seconds is None:
        raise ScheduleError({"intervalSeconds": "an interval schedule needs intervalSeconds"})
    if seconds < MIN_INTERVAL_S:
        raise ScheduleError({"intervalSeconds": f"interval must be at least {MIN_INTERVAL_S} seconds; got {seconds}"})
    if seconds > MAX_INTERVAL_S:
        raise ScheduleError({"intervalSeconds": f"interval must be at most {MAX_INTERVAL_S} seconds (10 years); got {seconds}"})


def validate(spec: ScheduleSpec, now: datetime, *, refuse_past: bool = True) -> Schedule | None:
    """Check every field of a schedule; ScheduleError names each one that is
    wrong. `refuse_past`: a one-time date that has passed is an error (for a
    schedule being set now, not for one that already ran)."""
    problems: dict[str, str] = {}
    try:
        zone(spec.timezone)
    except ScheduleError as exc:
        problems.update(exc.problems)
    schedule = None
    if not problems:
        try:
            if spec.type == INTERVAL:
                _check_interval(spec.interval_seconds)  # before the anchor: a huge interval overflows it
            schedule = compile_schedule(spec, anchor=interval_anchor(spec, now) if spec.type == INTERVAL else now)
        except ScheduleError as exc:
            problems.update(exc.problems)
    if schedule is not None and spec.type == CRON and schedule.first_at_or_after(max(now, spec.start_at or now)) is None:
        problems["cronExpression"] = f"cron expression {spec.cron_expression!r} never matches a date"
    if schedule is not None and spec.type == ONCE and refuse_past and spec.run_at <= now:
        problems["runAt"] = f"the one-time date {isoformat(spec.run_at)} is in the past (it is now {isoformat(whole_second(now))})"
    if problems:
        raise ScheduleError(problems)
    return schedule


def first_fire(spec: ScheduleSpec, now: datetime) -> datetime | None:
    """When a schedule set (or resumed) at `now` fires first."""
    schedule = compile_schedule(spec, anchor=interval_anchor(spec, now))
    if schedule is None:
        return None
    return schedule.first_at_or_after(now)
