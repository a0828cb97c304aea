"""Figures of the metrics issue: how long a Prometheus scrape of the app's
/metrics takes with 1,000,000 jobs in the database, on SQLite and on
PostgreSQL, in the real app.

Per database (`<db>` is `sqlite` or `postgres`), one app on a fresh
database, started with CRONIUM_METRICS_TOKEN:

1. `metrics_scrape_empty_<db>_p50_ms`: the baseline, the same scrape (one
   keep-alive connection, one after another, 30 of them; --quick 10; after
   5 not counted) on the empty database: what the page costs before any
   job is there.
2. N jobs (1,000,000; --quick 100,000) are written straight into the jobs
   table, untimed: SQLite through one executemany, PostgreSQL through COPY
   (the rows the job services write, minus the ORM). Most have ended
   (completed 90 %, failed 7 %, timed out, cancelled), over four types;
   1,000 are pending and 100 held by a worker.
3. `metrics_scrape_<db>_p50_ms` / `_p95_ms`: the same scrapes again. On
   PostgreSQL a freshly loaded table has no visibility map until autovacuum
   has been by, so its index-only scans still visit the table: first
   `metrics_scrape_unvacuumed_postgres_p50_ms`, right after the load, then
   the figures after `VACUUM ANALYZE jobs` (the steady state).

Checks: the page parses with prometheus_client's parser and counts exactly
the jobs written (by status), the queue and the held jobs.

Goal: `metrics_scrape_<db>_p95_ms` < 200 ms.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bench import SuiteFailed, percentile
from bench.suite import Suite, Target, per_database_baselines
from tests.support.clients import register_user

TOKEN = "bench-metrics-token-0123456789abcdef"
WARM_UP = 5
PENDING, HELD = 1000, 100
TYPES = ("bash", "python", "node", "http")
ENDED = (("completed", 90), ("failed", 7), ("timed_out", 1), ("cancelled", 2))
COLUMNS = ("id", "type", "status", "execution", "user_id", "workspace_id", "worker_id", "created_at", "acknowledged_at",
           "started_at", "completed_at", "attempt", "priority", "retry_number", "updated_at")

_BASELINE = "metrics_scrape_empty_{db}_p50_ms"
BASELINES = per_database_baselines({
    "metrics_scrape_{db}_p50_ms": _BASELINE,
    "metrics_scrape_{db}_p95_ms": _BASELINE,
})
BASELINES["metrics_scrape_unvacuumed_postgres_p50_ms"] = "metrics_scrape_empty_postgres_p50_ms"
GOALS = [(f"metrics_scrape_{db}_p95_ms", "<", 200.0) for db in ("sqlite", "postgres")]


def run(suite: Suite) -> None:
    suite.per_database(lambda target: measure(suite, target), CRONIUM_METRICS_TOKEN=TOKEN)
    suite.print_goals(GOALS)


def measure(suite: Suite, target: Target) -> None:
    label, figures = target.label, suite.figures
    count = suite.options.pick(1_000_000, 100_000)
    scrapes = suite.options.pick(30, 10)
    user = register_user(target.app.url)
    user_id = user.user["id"]
    user.http.close()
    with httpx.Client(base_url=target.app.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        _scrape_times(http, WARM_UP)  # the first requests of a new process (connections, imports)
        empty = _scrape_times(http, scrapes)
        figures[f"metrics_scrape_empty_{label}_p50_ms"] = percentile(empty, 50)
        began = time.monotonic()
        written = _insert_jobs(target.url, user_id, count)
        suite.say(f"{label}: wrote {count:,} jobs in {time.monotonic() - began:.1f} s")
        if label == "postgres":
            figures["metrics_scrape_unvacuumed_postgres_p50_ms"] = percentile(_scrape_times(http, scrapes), 50)
            began = time.monotonic()
            _vacuum(target.url)
            suite.say(f"postgres: VACUUM ANALYZE jobs took {time.monotonic() - began:.1f} s")
        full = _scrape_times(http, scrapes)
        figures[f"metrics_scrape_{label}_p50_ms"] = percentile(full, 50)
        figures[f"metrics_scrape_{label}_p95_ms"] = percentile(full, 95)
        suite.say(f"{label}: scrape p50 {percentile(full, 50):.1f} ms, p95 {percentile(full, 95):.1f} ms "
                  f"(empty database: p50 {percentile(empty, 50):.1f} ms)")
        suite.guard(f"{label}: the page counts the jobs written", lambda: _check_counts(http, written))


def _scrape_times(http: httpx.Client, times: int) -> list[float]:
    took = []
    for _ in range(times):
        began = time.perf_counter()
        response = http.get("/metrics")
        took.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SuiteFailed(f"/metrics answered {response.status_code}: {response.text[:200]}")
    return took


def _rows(user_id: int, workspace_id: int, count: int, stamp=lambda value: value):
    """The jobs' rows (tuples in COLUMNS' order, times through `stamp`, the
    driver's form) and how many of each status. Times repeat over 1,000
    values: the scrape reads none of them, and building a million distinct
    ones would take most of the load's time."""
    from cronium_app.timeutil import utcnow

    rng = random.Random(count)
    now = utcnow()
    times = [(stamp(now - timedelta(minutes=m)), stamp(now - timedelta(minutes=m, seconds=-1)),
              stamp(now - timedelta(minutes=m, seconds=-5))) for m in range(1000)]
    updated = stamp(now)
    ended = rng.choices([status for status, _ in ENDED], [weight for _, weight in ENDED], k=count)
    written: dict[str, int] = {}
    rows = []
    for n in range(count):
        status = "pending" if n < PENDING else "running" if n < PENDING + HELD else ended[n]
        written[status] = written.get(status, 0) + 1
        created, started, completed = times[n % 1000]
        if status == "pending":
            started = completed = None
        elif status == "running":
            completed = None
        rows.append((
            f"bench-{n:010d}", TYPES[n % len(TYPES)], status, "{}", user_id, workspace_id,
            None if started is None else "bench-worker", created, started, started, completed,
            0 if started is None else 1, 0, 0, updated,
        ))
    return rows, written


def _insert_jobs(database_url: str, user_id: int, count: int) -> dict[str, int]:
    from cronium_app.db import make_engine
    from cronium_app.models import Job

    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            # A new account has its personal workspace only.
            workspace_id = conn.execute(
                sa.text("SELECT workspace_id FROM workspace_members WHERE user_id = :user_id"), {"user_id": user_id}
            ).scalar_one()
            raw = conn.connection.driver_connection
            if engine.dialect.name == "sqlite":
                stamp = Job.__table__.c.created_at.type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
                rows, written = _rows(user_id, workspace_id, count, stamp)
                raw.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes' pages stay in memory
                marks = ", ".join("?" for _ in COLUMNS)
                raw.executemany(f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
            else:
                conn.execute(_POSTGRES_LOAD, {"user_id": user_id, "workspace_id": workspace_id, "count": count, "pending": PENDING, "held": PENDING + HELD})
                written = dict(conn.execute(sa.text("SELECT status, count(*) FROM jobs GROUP BY status")).all())
    finally:
        engine.dispose()
    return written


# The same rows made by the server itself: sending a million rows through
# COPY from here took longer than the server's own work on a busy machine.
_POSTGRES_LOAD = sa.text(f"""
    INSERT INTO jobs ({', '.join(COLUMNS)})
    SELECT 'bench-' || lpad(i::text, 10, '0'), (ARRAY['bash', 'python', 'node', 'http'])[1 + i % 4], status, '{{}}'::jsonb,
           :user_id, :workspace_id, CASE WHEN status = 'pending' THEN NULL ELSE 'bench-worker' END, created,
           CASE WHEN status = 'pending' THEN NULL ELSE created + interval '1 second' END,
           CASE WHEN status = 'pending' THEN NULL ELSE created + interval '1 second' END,
           CASE WHEN status IN ('pending', 'running') THEN NULL ELSE created + interval '5 seconds' END,
           CASE WHEN status = 'pending' THEN 0 ELSE 1 END, 0, 0, now()
    FROM (
        SELECT i, now() - (i % 1000) * interval '1 minute' AS created,
               CASE WHEN i <= :pending THEN 'pending' WHEN i <= :held THEN 'running'
                    WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 97 THEN 'failed'
                    WHEN i % 100 < 98 THEN 'timed_out' ELSE 'cancelled' END AS status
        FROM generate_series(1, :count) AS i
    ) AS generated
""")


def _vacuum(database_url: str) -> None:
    from cronium_app.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE jobs"))
    finally:
        engine.dispose()


def _check_counts(http: httpx.Client, written: dict[str, int]) -> None:
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(http.get("/metrics").text):
        for sample in family.samples:
            key = sample.labels.get("status", "") if sample.name == "cronium_jobs_total" else ""
            values[f"{sample.name}:{key}"] = values.get(f"{sample.name}:{key}", 0) + sample.value
    for status, _ in ENDED:
        assert values.get(f"cronium_jobs_total:{status}") == written[status], (status, values)
    assert values["cronium_jobs_queued:"] == written["pending"], values
    assert values["cronium_jobs_running:"] == written["running"], values

