"""Misfire and overlap policies as pure functions of fixed times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from cronium_app.schedules.policy import OverlapGate, plan_fires
from cronium_app.schedules.triggers import ScheduleSpec, compile_schedule

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
EVERY_MINUTE = compile_schedule(ScheduleSpec(type="interval", interval_seconds=60), anchor=T0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def plan(now_s: float, policy: str, cap: int = 100):
    return plan_fires(EVERY_MINUTE, T0, at(now_s), policy, grace_s=5, cap=cap)


def test_nothing_is_due_before_the_fire_time():
    assert plan(-1, "run_once").fire_times == []


def test_a_fire_time_reached_within_the_grace_runs_under_every_policy():
    for policy in ("skip", "run_once", "run_all"):
        result = plan(4.5, policy)
        assert result.fire_times == [T0] and result.missed_from is None
        assert result.next_fire_at == at(60)


def test_skip_drops_missed_fire_times():
    result = plan(10 * 60 + 30, "skip")
    assert result.fire_times == [] and result.missed_from == T0
    assert result.next_fire_at == at(11 * 60)


def test_run_once_runs_the_latest_missed_fire_time():
    assert plan(10 * 60 + 30, "run_once").fire_times == [at(10 * 60)]


def test_run_all_runs_every_missed_fire_time():
    assert plan(10 * 60 + 30, "run_all").fire_times == [at(60 * i) for i in range(11)]


def test_run_all_is_capped_to_the_latest():
    assert plan(10 * 60 + 30, "run_all", cap=3).fire_times == [at(480), at(540), at(600)]


def test_missed_and_on_time_fire_times_both_count():
    # Missed 12:00..12:09, and 12:10 is on time: run_once gives the latest missed plus the on-time one.
    assert plan(10 * 60 + 2, "run_once").fire_times == [at(540), at(600)]


def test_overlap_allow_admits_everything():
    gate = OverlapGate("allow", busy=True)
    assert gate.admit(T0) and gate.admit(at(60))


def test_overlap_skip_drops_while_busy():
    gate = OverlapGate("skip", busy=True)
    assert not gate.admit(T0)
    assert gate.skipped == [T0] and gate.queued is None


def test_overlap_skip_admits_when_idle_then_counts_the_new_run():
    gate = OverlapGate("skip", busy=False)
    assert gate.admit(T0)
    gate.started()
    assert not gate.admit(at(60))


def test_overlap_queue_keeps_the_first_waiting_fire_time_only():
    gate = OverlapGate("queue", busy=True)
    assert not gate.admit(T0) and not gate.admit(at(60))
    assert gate.queued == T0 and gate.skipped == [at(60)]
