"""Schedules as data: what a schedule on an event or a workflow is, and the
state kept on its row. Pure or row-level code, used by the event and
workflow services when a row is saved and by the scheduler when it fires.

- `triggers`: a schedule's fields as an APScheduler 3.x trigger; validation
  with clear messages; fire times in the schedule's time zone (crontab
  weekdays, seconds, DST).
- `policy`: misfire and overlap policies, as pure functions.
- `state`: the schedule state on its row (`next_fire_at`), kept in step
  with every create, edit, pause, resume; previews.
- `schemas`: the API shapes.
"""
