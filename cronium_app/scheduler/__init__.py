"""The persistent scheduler: cron, interval and one-time schedules on events
and workflows that create jobs (or workflow runs), survive restarts, and
never fire twice.

Modules:

- `firing`: one tick against the database: lock due rows, create runs with
  idempotency keys (through `jobs.create`), move the rows on.
- `loop`: the lifespan task with an injectable clock.

What a schedule *is* (its fields, validation, fire times, policies, the
state kept on its row) lives in `cronium_app.schedules`, which the event and
workflow services use without depending on the firing (which depends on
them, through the jobs it creates).

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
