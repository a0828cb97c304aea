"""What a due schedule does: the misfire policy (which of the fire times
that passed get a run) and the overlap policy (what a fire time does while
the previous run is still going). Pure functions of times and flags; the
database side is in `firing.py`.

Misfire. The loop reaches a fire time a little late (it polls every
`scheduler_poll_s`, and a burst of schedules takes a moment to write). A
fire time older than the grace (`CRONIUM_SCHEDULER_MISFIRE_GRACE`, 5 s)
when the loop gets to it was missed: the app was down, or the schedule was
too busy to keep up. Fire times within the grace always run. Missed ones:

- `skip`: none of them runs.
- `run_once` (the default): one run, for the latest missed fire time.
- `run_all`: one run per missed fire time, the latest `scheduler_run_all_cap`
  (100) of them.

Overlap. "The previous run is going" means the schedule's event has a job
that is pending, acknowledged or running (any job of the event outside a
workflow run: a manual run or a queued retry counts too); for a workflow, a
run that is still running.

- `allow`: runs start regardless.
- `skip` (the default): the fire time gets no run.
- `queue`: the fire time waits (`queued_fire_at`) and gets its run as soon
  as the previous one has ended, under that fire time's own idempotency
  key. At most one waits: fire times that come while one is waiting get no
  run, so runs never overlap and never pile up.

Each run created counts against the policy for the ones after it: with
`skip` or `queue`, catching up with `run_all` yields one run now (and one
queued); choose `allow` to get every missed run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cronium_app.schedules.triggers import Schedule

MISFIRE_POLICIES = ("skip", "run_once", "run_all")
OVERLAP_POLICIES = ("allow", "skip", "queue")


@dataclass(frozen=True)
class FirePlan:
    """The fire times that get a run (oldest first), and the next one after now."""

    fire_times: list[datetime]
    next_fire_at: datetime | None
    missed_from: datetime | None = None  # the first fire time that was missed, if any


def plan_fires(
    schedule: Schedule, next_fire_at: datetime, now: datetime, misfire_policy: str, *, grace_s: float, cap: int
) -> FirePlan:
    """Every fire time from `next_fire_at` (a fire time) up to `now` is due."""
    if next_fire_at > now:
        return FirePlan([], next_fire_at)
    on_time_from = now - timedelta(seconds=grace_s)
    on_time = schedule.between(max(next_fire_at, on_time_from), now, cap)
    kept: list[datetime] = []
    missed_from = None
    if next_fire_at < on_time_from:
        missed_from = next_fire_at
        wanted = {"skip": 0, "run_once": 1, "run_all": cap}.get(misfire_policy, 1)
        kept = schedule.last_before(next_fire_at, on_time_from, wanted)
    fire_times = (kept + on_time)[-cap:]
    return FirePlan(fire_times, schedule.next_after(now), missed_from)


@dataclass
class OverlapGate:
    """Decides, fire time by fire time, under one overlap policy."""

    policy: str
    busy: bool  # the previous run is going
    queued: datetime | None = None  # a fire time already waiting
    skipped: list[datetime] = field(default_factory=list)

    def admit(self, fire_time: datetime) -> bool:
        """True: create the run now. False: it was skipped or queued."""
        if self.policy == "allow" or not self.busy:
            return True
        if self.policy == "queue" and self.queued is None:
            self.queued = fire_time
            return False
        self.skipped.append(fire_time)
        return False

    def started(self) -> None:
        """A run was just created: it is the previous run now."""
        if self.policy != "allow":
            self.busy = True
