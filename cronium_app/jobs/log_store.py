"""Storing a job's log lines as workers send them: runs of consecutive lines
of one stream read at one moment (seq, seq+1, ...), checked against the
app's limits, masked, and inserted with duplicates (same job and seq)
ignored, so a resent batch never doubles a line.

A busy job prints tens of thousands of lines a second, so nothing here is
done per line that can be done per run or per batch: the timestamp is
converted once per run, masking is skipped for a job without secrets, and
each batch is one statement (sqlite3's executemany of plain tuples; one
INSERT ... SELECT FROM unnest(arrays) on PostgreSQL, which also gives a row
count that psycopg's executemany does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlmodel import Session

from cronium_app import telemetry
from cronium_app.db import is_sqlite
from cronium_app.errors import Invalid, TooLarge
from cronium_app.jobs.masking import masker_for_job
from cronium_app.models import ExecutionLog
from cronium_app.settings import Settings

LOG_STREAMS = ("stdout", "stderr", "system")


@dataclass(frozen=True)
class LogRun:
    seq: int  # of the first line
    stream: str
    timestamp: datetime
    lines: list[str]


def line_count(runs: list[LogRun]) -> int:
    return sum(len(run.lines) for run in runs)


def validate(settings: Settings, runs: list[LogRun]) -> None:
    """Refuse the whole batch (nothing stored) if any of it is out of bounds."""
    count = line_count(runs)
    if count > settings.log_batch_max_lines:
        raise TooLarge(f"a log batch holds at most {settings.log_batch_max_lines} lines; got {count}")
    for run in runs:
        if run.seq < 1:
            raise Invalid(f"seq must be 1 or more; got {run.seq}")
        if run.stream not in LOG_STREAMS:
            raise Invalid(f"stream must be one of {', '.join(LOG_STREAMS)}; got {run.stream!r}")
        longest = max(run.lines, key=len, default="")
        if len(longest) > settings.log_line_max_chars:
            seq = run.seq + run.lines.index(longest)
            raise TooLarge(f"log line {seq} has {len(longest)} characters; the limit is {settings.log_line_max_chars}")


def store(session: Session, settings: Settings, job_id: str, runs: list[LogRun]) -> int:
    """Insert the runs' lines (masked), ignoring those already stored; how many were new."""
    if not line_count(runs):
        return 0
    mask = masker_for_job(session, settings, job_id)
    masked = [(run, [mask.text(text) for text in run.lines] if mask.hides_anything else run.lines) for run in runs]
    store_lines = _store_sqlite if is_sqlite(session.get_bind()) else _store_postgres
    inserted = store_lines(session, job_id, masked)
    telemetry.after_commit(session, telemetry.log_lines_stored, inserted)
    return inserted


def _store_sqlite(session: Session, job_id: str, masked: list[tuple[LogRun, list[str]]]) -> int:
    dialect = session.get_bind().dialect
    # The column's own conversion (UTC, then SQLite's text form), once per run.
    stamp_of = ExecutionLog.__table__.c.timestamp.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
    rows = [
        (job_id, run.seq + offset, run.stream, text, stamp)
        for run, texts in masked
        for stamp in (stamp_of(run.timestamp),)
        for offset, text in enumerate(texts)
    ]
    result = session.connection().exec_driver_sql(_SQLITE_INSERT, rows)
    return max(result.rowcount, 0)


def _store_postgres(session: Session, job_id: str, masked: list[tuple[LogRun, list[str]]]) -> int:
    seqs: list[int] = []
    streams: list[str] = []
    texts: list[str] = []
    stamps: list[str] = []
    for run, run_texts in masked:
        stamp = run.timestamp.astimezone(timezone.utc).isoformat()
        seqs.extend(range(run.seq, run.seq + len(run_texts)))
        streams.extend([run.stream] * len(run_texts))
        stamps.extend([stamp] * len(run_texts))
        texts.extend(run_texts)
    result = session.connection().execute(
        _POSTGRES_INSERT, {"job_id": job_id, "seqs": seqs, "streams": streams, "lines": texts, "stamps": stamps}
    )
    return max(result.rowcount, 0)


_TABLE = ExecutionLog.__tablename__
_SQLITE_INSERT = (
    f"INSERT INTO {_TABLE} (job_id, seq, stream, line, timestamp) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (job_id, seq) DO NOTHING"
)
_POSTGRES_INSERT = sa.text(
    f"INSERT INTO {_TABLE} (job_id, seq, stream, line, timestamp) "
    "SELECT :job_id, * FROM unnest(CAST(:seqs AS bigint[]), CAST(:streams AS varchar[]), "
    "CAST(:lines AS text[]), CAST(:stamps AS timestamptz[])) "
    "ON CONFLICT (job_id, seq) DO NOTHING"
)
