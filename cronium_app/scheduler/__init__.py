"""The persistent scheduler: cron, interval and one-time schedules on events
and workflows that create jobs (or workflow runs), survive restarts, and
never fire twice.

Modules:

- `triggers`: a schedule's fields as an APScheduler 3.x trigger; validation
  with clear messages; fire times in the schedule's time zone (crontab
  weekdays, seconds, DST).
- `policy`: misfire and overlap policies, as pure functions.
- `state`: the schedule state on its row (`next_fire_at`), kept in step
  with every create, edit, pause, resume; previews.
- `firing`: one tick against the database: lock due rows, create runs with
  idempotency keys, move the rows on.
- `loop`: the lifespan task with an injectable clock.
- `schemas`: the API shapes.

Why our own columns, not APScheduler's job store. APScheduler 3.x's
`SQLAlchemyJobStore` keeps each job as a pickled callable plus its next
run time, and its scheduler fires jobs inside the process that loaded them.
It has no notion of an idempotency key, of a misfire cap, of "the previous
run is still going" across processes, nor of sharing one store between two
schedulers (the 3.x user guide: "job stores must never be shared between
schedulers"; each would fire every job). Cronium's schedules already live on the events and workflows rows,
so the state the scheduler needs sits next to them: `next_fire_at` and
`queued_fire_at` (migration 0003). A due query (`next_fire_at <= now`), row
locks (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite),
a conditional UPDATE of the row and the jobs' unique idempotency key
(`sched:event:{id}:{fire time}`) make any number of app processes safe,
and the state is plain columns that a migration, a query or the UI can read.
APScheduler still does all the calendar arithmetic: its `CronTrigger`,
`IntervalTrigger` and `DateTrigger` compute every fire time.
"""
