"""Metrics: a tally of ended jobs by status and type, kept by triggers on
jobs, and a row per worker with its job slots (cronium_app/metrics).

The tally makes `cronium_jobs_total` a read of a few dozen rows: counting
the jobs table itself at each scrape takes about a second per million jobs.
A trigger counts every job that reaches a terminal status, whichever code
path ends it (a worker's report, a cancel, the sweeper, a job created
already ended), and nothing takes a count back: deleting old jobs leaves
the tally alone, as a Prometheus counter needs. On PostgreSQL the triggers
run once per statement, and a statement's count goes to one of SHARDS rows
picked at random, so that workers completing jobs at the same time do not
queue on one row's lock.

Revision ID: 0013
Revises: 0012
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: Union[str, None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ENDED = "('completed', 'failed', 'timed_out', 'cancelled', 'partial')"
SHARDS = 8

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER jobs_tally_ended AFTER UPDATE OF status ON jobs
    WHEN NEW.status IN {ENDED} AND OLD.status NOT IN {ENDED}
    BEGIN
        INSERT INTO job_tallies (status, type, shard, count) VALUES (NEW.status, NEW.type, 0, 1)
        ON CONFLICT (status, type, shard) DO UPDATE SET count = count + 1;
    END""",
    f"""CREATE TRIGGER jobs_tally_created_ended AFTER INSERT ON jobs
    WHEN NEW.status IN {ENDED}
    BEGIN
        INSERT INTO job_tallies (status, type, shard, count) VALUES (NEW.status, NEW.type, 0, 1)
        ON CONFLICT (status, type, shard) DO UPDATE SET count = count + 1;
    END""",
]
# Per statement, not per row: an UPDATE that ends many jobs at once (a
# cancel, the sweeper, a bulk load) adds to each (status, type) once. Row
# triggers there would update the same few rows once per job inside one
# transaction, and each update of a row this transaction already updated
# walks the row's growing chain of versions: quadratic in the jobs ended.
_POSTGRES_ADD = f"""
    INSERT INTO job_tallies (status, type, shard, count)
    SELECT status, type, floor(random() * {SHARDS})::int, count(*) FROM ({{ended}}) AS ended GROUP BY status, type
    ON CONFLICT (status, type, shard) DO UPDATE SET count = job_tallies.count + EXCLUDED.count"""
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION cronium_tally_ended_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_POSTGRES_ADD.format(ended=f"SELECT n.status, n.type FROM new_rows n JOIN old_rows o ON o.id = n.id "
                                     f"WHERE n.status IN {ENDED} AND o.status NOT IN {ENDED}")};
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION cronium_tally_created_ended_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_POSTGRES_ADD.format(ended=f"SELECT status, type FROM new_rows WHERE status IN {ENDED}")};
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER jobs_tally_ended AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cronium_tally_ended_jobs()""",
    """CREATE TRIGGER jobs_tally_created_ended AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cronium_tally_created_ended_jobs()""",
]


def upgrade() -> None:
    op.create_table(
        "job_tallies",
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("type", sa.String(16), primary_key=True),
        sa.Column("shard", sa.Integer(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    # The jobs that ended before this migration.
    op.execute(
        f"INSERT INTO job_tallies (status, type, shard, count) "
        f"SELECT status, type, 0, count(*) FROM jobs WHERE status IN {ENDED} GROUP BY status, type"
    )
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)
    op.create_table(
        "worker_presence",
        sa.Column("worker_id", sa.String(128), primary_key=True),
        sa.Column("slots_total", sa.Integer(), nullable=False),
        sa.Column("slots_used", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("idx_worker_presence_seen", "worker_presence", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("idx_worker_presence_seen", table_name="worker_presence")
    op.drop_table("worker_presence")
    op.execute("DROP TRIGGER IF EXISTS jobs_tally_created_ended" + ("" if _sqlite() else " ON jobs"))
    op.execute("DROP TRIGGER IF EXISTS jobs_tally_ended" + ("" if _sqlite() else " ON jobs"))
    if not _sqlite():
        op.execute("DROP FUNCTION IF EXISTS cronium_tally_ended_jobs()")
        op.execute("DROP FUNCTION IF EXISTS cronium_tally_created_ended_jobs()")
    op.drop_table("job_tallies")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"
