"""Schedules as triggers: validation messages, fire times in a time zone,
crontab weekdays, and daylight saving time (with a controllable clock: every
`now` here is a fixed moment, never the wall clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cronium_app.schedules.triggers import (
    ScheduleError,
    ScheduleSpec,
    compile_schedule,
    first_fire,
    in_zone,
    validate,
)

UTC = timezone.utc
NOW = datetime(2024, 3, 20, 12, 0, 0, tzinfo=UTC)  # a Wednesday


def cron(expression: str, tz: str = "UTC", start_at: datetime | None = None) -> ScheduleSpec:
    return ScheduleSpec(type="cron", cron_expression=expression, timezone=tz, start_at=start_at)


def next_times(spec: ScheduleSpec, now: datetime, count: int) -> list[datetime]:
    schedule = validate(spec, now)
    first = first_fire(spec, now)
    if spec.type == "interval":
        schedule = compile_schedule(spec, anchor=first)
    return schedule.upcoming(first, count)


def local_times(spec: ScheduleSpec, now: datetime, count: int) -> list[str]:
    return [in_zone(t, spec.timezone) for t in next_times(spec, now, count)]


def problems(spec: ScheduleSpec, now: datetime = NOW) -> dict[str, str]:
    with pytest.raises(ScheduleError) as caught:
        validate(spec, now)
    return caught.value.problems


# -- bad input -------------------------------------------------------------------


def test_cron_with_the_wrong_number_of_fields_says_how_many_it_needs():
    message = problems(cron("*/5 * *"))["cronExpression"]
    assert message.startswith("cron expression must have 5 or 6 fields")
    assert "got 3" in message


def test_cron_with_seven_fields_is_refused():
    assert "got 7" in problems(cron("0 0 0 * * * 2024"))["cronExpression"]


def test_cron_field_out_of_range_names_the_field_and_its_range():
    message = problems(cron("61 * * * *"))["cronExpression"]
    assert "minute '61' is not valid (0-59)" in message


def test_cron_hour_out_of_range_names_the_hour():
    assert "hour '24' is not valid (0-23)" in problems(cron("0 24 * * *"))["cronExpression"]


def test_cron_unknown_weekday_is_refused_with_the_crontab_range():
    message = problems(cron("0 9 * * 8"))["cronExpression"]
    assert "'8' is not a day of the week" in message and "0 and 7 are Sunday" in message


def test_cron_garbage_names_the_first_bad_field():
    assert "minute 'a' is not valid" in problems(cron("a b c d e"))["cronExpression"]


def test_cron_that_never_matches_a_date_is_refused():
    assert "never matches a date" in problems(cron("0 0 31 2 *"))["cronExpression"]


def test_cron_empty_expression_asks_for_one():
    assert "needs a cron expression" in problems(cron("  "))["cronExpression"]


def test_unknown_macro_lists_the_known_ones():
    assert "@daily" in problems(cron("@reboot"))["cronExpression"]


def test_interval_below_ten_seconds_is_refused():
    spec = ScheduleSpec(type="interval", interval_seconds=9)
    assert problems(spec) == {"intervalSeconds": "interval must be at least 10 seconds; got 9"}


def test_interval_without_seconds_is_refused():
    assert "intervalSeconds" in problems(ScheduleSpec(type="interval"))


def test_unknown_time_zone_is_refused():
    message = problems(cron("* * * * *", tz="Mars/Olympus_Mons"))["timezone"]
    assert "unknown time zone 'Mars/Olympus_Mons'" in message


def test_one_time_date_in_the_past_is_refused():
    spec = ScheduleSpec(type="once", run_at=NOW - timedelta(minutes=1))
    assert "is in the past" in problems(spec)["runAt"]


def test_one_time_date_in_the_past_is_accepted_when_not_being_set():
    spec = ScheduleSpec(type="once", run_at=NOW - timedelta(minutes=1))
    validate(spec, NOW, refuse_past=False)


def test_one_time_without_a_date_is_refused():
    assert "runAt" in problems(ScheduleSpec(type="once"))


def test_manual_schedule_has_no_fire_times():
    assert validate(ScheduleSpec(type="manual"), NOW) is None
    assert first_fire(ScheduleSpec(type="manual"), NOW) is None


# -- fire times ---------------------------------------------------------------------


def test_cron_fire_times_are_shown_in_the_schedules_zone_with_its_offset():
    spec = cron("30 9 * * *", tz="Europe/Berlin")
    assert local_times(spec, NOW, 3) == [
        "2024-03-21T09:30:00+01:00",
        "2024-03-22T09:30:00+01:00",
        "2024-03-23T09:30:00+01:00",
    ]


def test_six_fields_put_seconds_first():
    assert local_times(cron("*/15 * * * * *"), NOW, 3) == [
        "2024-03-20T12:00:00+00:00", "2024-03-20T12:00:15+00:00", "2024-03-20T12:00:30+00:00",
    ]


@pytest.mark.parametrize(
    ("weekday", "expected_day"),
    [("1", "Monday"), ("0", "Sunday"), ("7", "Sunday"), ("mon", "Monday"), ("6", "Saturday")],
)
def test_crontab_weekday_numbers_count_from_sunday(weekday, expected_day):
    times = next_times(cron(f"0 9 * * {weekday}"), NOW, 3)
    assert {t.strftime("%A") for t in times} == {expected_day}


def test_weekday_range_monday_to_friday():
    times = next_times(cron("0 9 * * 1-5"), NOW, 7)
    assert [t.strftime("%a") for t in times] == ["Thu", "Fri", "Mon", "Tue", "Wed", "Thu", "Fri"]


def test_weekday_step_counts_from_sunday():
    times = next_times(cron("0 9 * * */2"), NOW, 4)  # Sun, Tue, Thu, Sat
    assert [t.strftime("%a") for t in times] == ["Thu", "Sat", "Sun", "Tue"]


def test_daily_macro():
    assert local_times(cron("@daily", tz="America/New_York"), NOW, 2) == [
        "2024-03-21T00:00:00-04:00", "2024-03-22T00:00:00-04:00",
    ]


def test_cron_start_at_delays_the_first_fire():
    start = datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
    assert next_times(cron("0 12 * * *", start_at=start), NOW, 1) == [datetime(2024, 4, 1, 12, 0, tzinfo=UTC)]


def test_interval_starts_one_interval_from_now():
    spec = ScheduleSpec(type="interval", interval_seconds=90)
    assert next_times(spec, NOW, 3) == [NOW + timedelta(seconds=s) for s in (90, 180, 270)]


def test_interval_with_start_at_in_the_future_starts_there():
    start = NOW + timedelta(hours=2)
    spec = ScheduleSpec(type="interval", interval_seconds=600, start_at=start)
    assert next_times(spec, NOW, 2) == [start, start + timedelta(minutes=10)]


def test_interval_with_start_at_in_the_past_keeps_its_grid():
    start = NOW - timedelta(seconds=25)
    spec = ScheduleSpec(type="interval", interval_seconds=10, start_at=start)
    assert next_times(spec, NOW, 2) == [NOW + timedelta(seconds=5), NOW + timedelta(seconds=15)]


def test_once_fires_once():
    run_at = NOW + timedelta(days=1)
    spec = ScheduleSpec(type="once", run_at=run_at, timezone="Asia/Tokyo")
    assert next_times(spec, NOW, 5) == [run_at]
    assert local_times(spec, NOW, 1) == ["2024-03-21T21:00:00+09:00"]


def test_last_before_jumps_over_a_long_gap():
    schedule = compile_schedule(cron("* * * * * *"), anchor=NOW)
    times = schedule.last_before(NOW - timedelta(days=7), NOW, 3)
    assert times == [NOW - timedelta(seconds=s) for s in (3, 2, 1)]


def test_last_before_walks_a_short_gap():
    schedule = compile_schedule(cron("*/10 * * * *"), anchor=NOW)
    times = schedule.last_before(NOW - timedelta(hours=1), NOW, 100)
    assert len(times) == 6 and times[-1] == NOW - timedelta(minutes=10)


# -- daylight saving time -----------------------------------------------------------------
# Europe/Berlin: 2024-03-31 02:00 -> 03:00 (spring forward); 2024-10-27 03:00 -> 02:00 (fall back).
# America/New_York: 2024-03-10 02:00 -> 03:00; 2024-11-03 02:00 -> 01:00.


def fires_on(spec: ScheduleSpec, day: str) -> list[str]:
    """The fire times whose local date is `day`, as local ISO strings."""
    tz = ZoneInfo(spec.timezone)
    start = datetime.fromisoformat(day).replace(tzinfo=tz) - timedelta(days=1)
    times = next_times(spec, start.astimezone(UTC), 200)
    return [in_zone(t, spec.timezone) for t in times if t.astimezone(tz).date().isoformat() == day]


def test_spring_forward_daily_run_in_the_gap_happens_once():
    # 02:30 does not exist that night; it runs once, as the clock leaves the gap.
    assert fires_on(cron("30 2 * * *", tz="Europe/Berlin"), "2024-03-31") == ["2024-03-31T03:30:00+02:00"]


def test_spring_forward_days_around_it_keep_their_time():
    spec = cron("30 2 * * *", tz="Europe/Berlin")
    assert fires_on(spec, "2024-03-30") == ["2024-03-30T02:30:00+01:00"]
    assert fires_on(spec, "2024-04-01") == ["2024-04-01T02:30:00+02:00"]


def test_fall_back_daily_run_in_the_repeated_hour_happens_once():
    assert fires_on(cron("30 2 * * *", tz="Europe/Berlin"), "2024-10-27") == ["2024-10-27T02:30:00+02:00"]


def test_fall_back_daily_run_new_york():
    assert fires_on(cron("30 1 * * *", tz="America/New_York"), "2024-11-03") == ["2024-11-03T01:30:00-04:00"]


def test_spring_forward_daily_run_new_york():
    assert fires_on(cron("30 2 * * *", tz="America/New_York"), "2024-03-10") == ["2024-03-10T03:30:00-04:00"]


def test_fall_back_hourly_run_keeps_every_elapsed_hour():
    # A 25-hour day: an hourly schedule runs 25 times, one hour apart.
    times = [t for t in fires_on(cron("0 * * * *", tz="Europe/Berlin"), "2024-10-27")]
    assert len(times) == 25
    utc = [datetime.fromisoformat(t).astimezone(UTC) for t in times]
    assert all(b - a == timedelta(hours=1) for a, b in zip(utc, utc[1:]))


def test_spring_forward_hourly_run_keeps_every_elapsed_hour():
    times = fires_on(cron("0 * * * *", tz="Europe/Berlin"), "2024-03-31")
    assert len(times) == 23
    utc = [datetime.fromisoformat(t).astimezone(UTC) for t in times]
    assert all(b - a == timedelta(hours=1) for a, b in zip(utc, utc[1:]))


def test_fall_back_fixed_hour_with_minutes_runs_each_wall_time_once():
    assert fires_on(cron("*/20 2 * * *", tz="Europe/Berlin"), "2024-10-27") == [
        "2024-10-27T02:00:00+02:00", "2024-10-27T02:20:00+02:00", "2024-10-27T02:40:00+02:00",
    ]


def test_fire_times_through_a_transition_never_repeat_or_go_back():
    spec = cron("*/30 * * * *", tz="America/New_York")
    times = next_times(spec, datetime(2024, 11, 3, 3, 0, tzinfo=UTC), 20)
    assert all(b - a == timedelta(minutes=30) for a, b in zip(times, times[1:]))


def test_interval_counts_elapsed_time_across_dst():
    start = datetime(2024, 3, 30, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    spec = ScheduleSpec(type="interval", interval_seconds=86_400, start_at=start, timezone="Europe/Berlin")
    times = next_times(spec, start - timedelta(minutes=1), 3)
    assert all(b - a == timedelta(days=1) for a, b in zip(times, times[1:]))
    assert [in_zone(t, "Europe/Berlin")[11:16] for t in times] == ["12:00", "13:00", "13:00"]


@pytest.mark.parametrize("late_s", [0, 0.4, 4])
def test_spring_forward_run_in_the_gap_is_found_from_its_own_fire_time(late_s):
    """The loop looks for fire times from the stored next one (or a little
    after it): the run that moved out of the gap must still be found there."""
    fire = datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # 03:30+02:00, where 02:30 went
    schedule = compile_schedule(cron("30 2 * * *", tz="Europe/Berlin"), anchor=NOW)
    assert schedule.first_at_or_after(fire) == fire
    assert schedule.between(fire, fire + timedelta(seconds=late_s), 10) == [fire]


def test_spring_forward_run_in_the_gap_is_the_latest_missed_one():
    fire = datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    schedule = compile_schedule(cron("30 2 * * *", tz="Europe/Berlin"), anchor=NOW)
    assert schedule.last_before(fire - timedelta(days=2), fire + timedelta(minutes=5), 1) == [fire]


def test_a_half_hour_spring_forward_keeps_the_run_in_its_gap():
    # Australia/Lord_Howe: 2024-10-06 02:00 -> 02:30.
    assert fires_on(cron("15 2 * * *", tz="Australia/Lord_Howe"), "2024-10-06") == ["2024-10-06T02:45:00+11:00"]

